// The serial console page (templates/consoles/vm_serial.html): xterm.js on the
// portal's own origin. Each connection asks for a fresh single-use ticket of
// protocol "serial" (POST /api/v1/vms/<id>/console/) and opens the websocket
// path it names (/ws/serial/?token=...&vm=...), which relays bytes both ways
// to the VM's first serial port (consoles/serial.py). The VM's live status
// (/ws/updates/) decides when to connect again.
import { Terminal } from "../vendor/xterm/xterm.mjs";
import { FitAddon } from "../vendor/xterm/addon-fit.mjs";

const root = document.getElementById("console");
const screen = document.getElementById("console-screen");
const statusText = root.querySelector("[data-console-status]");
const vmStatusText = root.querySelector("[data-vm-status-text]");
const vm = { id: Number(root.dataset.vmId), name: root.dataset.vmName, status: root.dataset.vmStatus, host: root.dataset.vmHost };

// The statuses in which the VM's process runs, so its serial port exists.
const RUNNING = new Set(["up", "paused", "powering_up", "powering_down", "reboot_in_progress", "migrating"]);
const RETRY_SECONDS = [1, 2, 4, 8, 15];

const terminal = new Terminal({ convertEol: false, cursorBlink: true, scrollback: 5000,
                                fontFamily: "monospace", theme: { background: "#000000" } });
const encoder = new TextEncoder();
let socket = null;
let retries = 0;
let retryTimer = null;
let userClosed = false;

function setState(state, words) {
  document.body.dataset.consoleState = state;
  statusText.textContent = words;
  statusText.className = `console__state console__state--${state}`;
}

function showMessage(text) {
  let message = screen.querySelector("[data-console-message]");
  if (!text) { message?.remove(); return; }
  if (!message) {
    message = document.createElement("p");
    message.className = "console__message";
    message.dataset.consoleMessage = "";
    screen.prepend(message);
  }
  message.textContent = text;
}

// Fill the window: as many rows and columns as fit.
const fitter = new FitAddon();
terminal.loadAddon(fitter);
const fit = () => fitter.fit();

async function issueTicket() {
  const response = await fetch(root.dataset.ticketUrl, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": root.dataset.csrfToken },
    body: JSON.stringify({ protocol: "serial" }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.detail || `The portal answered ${response.status}.`);
    error.status = response.status;
    throw error;
  }
  return body;
}

async function connect() {
  clearTimeout(retryTimer);
  disconnect();
  userClosed = false;
  if (!RUNNING.has(vm.status)) {
    setState("waiting", "Waiting for the VM to run");
    return;
  }
  setState("connecting", "Connecting…");
  let ticket;
  try {
    ticket = await issueTicket();
  } catch (error) {
    setState("refused", error.message);
    if (error.status !== 403) scheduleRetry();
    return;
  }
  const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + window.location.host + ticket.websocket_path, ["binary"]);
  ws.binaryType = "arraybuffer";
  socket = ws;
  ws.addEventListener("open", () => {
    retries = 0;
    showMessage("");
    setState("connected", "Connected");
    terminal.focus();
    ws.send(encoder.encode("\r")); // a fresh prompt: the guest printed its last one before we came
  });
  ws.addEventListener("message", (event) => {
    terminal.write(typeof event.data === "string" ? event.data : new Uint8Array(event.data));
  });
  ws.addEventListener("close", () => {
    if (socket === ws) socket = null;
    if (userClosed) return;
    setState("disconnected", "Disconnected");
    scheduleRetry();
  });
}

function disconnect() {
  if (socket) {
    userClosed = true;
    socket.close();
    socket = null;
  }
}

function scheduleRetry() {
  clearTimeout(retryTimer);
  if (!RUNNING.has(vm.status)) return;
  if (retries >= RETRY_SECONDS.length) {
    setState("disconnected", "Disconnected: press Reconnect");
    return;
  }
  const seconds = RETRY_SECONDS[retries++];
  statusText.textContent += ` (again in ${seconds} s)`;
  retryTimer = setTimeout(connect, seconds * 1000);
}

function followVm() {
  const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  const updates = new WebSocket(scheme + window.location.host + root.dataset.updatesPath);
  updates.addEventListener("message", (event) => {
    const update = JSON.parse(event.data);
    if (update.type !== "vm" || update.id !== vm.id) return;
    const moved = String(update.host ?? "") !== String(vm.host ?? "");
    const wasRunning = RUNNING.has(vm.status);
    vm.status = update.status;
    vm.host = update.host ?? "";
    vmStatusText.textContent = `VM ${(update.label || update.status).toLowerCase()} · serial console`;
    if (!RUNNING.has(vm.status)) {
      disconnect();
      clearTimeout(retryTimer);
      setState("waiting", "Waiting for the VM to run");
    } else if (moved || !wasRunning || !socket) {
      retries = 0;
      connect();
    }
  });
  updates.addEventListener("close", () => setTimeout(followVm, 3000));
}

terminal.onData((data) => {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(encoder.encode(data));
});

root.addEventListener("click", (event) => {
  const button = event.target.closest("[data-console-action]");
  if (!button) return;
  if (button.dataset.consoleAction === "reconnect") { retries = 0; connect(); }
  if (button.dataset.consoleAction === "fullscreen") {
    if (document.fullscreenElement) document.exitFullscreen();
    else root.requestFullscreen?.();
  }
});

terminal.open(screen);
window.addEventListener("resize", fit);
requestAnimationFrame(fit);
window.portalTerminal = terminal; // tests read what the guest printed from it
followVm();
connect();
