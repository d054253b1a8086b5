// The console page (templates/consoles/vm_console.html) for a VM whose console
// is SPICE: spice-html5 on the portal's own origin, through the same tickets
// as VNC. Each connection asks for a fresh ticket (POST
// /api/v1/vms/<id>/console/ {protocol: "spice"}); its websocket path
// (/websockify?token=...&vm=...) is relayed to the VM's SPICE server, which
// asks for the one-time password the ticket's answer carries. spice-html5
// opens one websocket per SPICE channel (main, display, inputs, cursor):
// a SPICE ticket admits them all until it expires.
import { SpiceMainConn, sendCtrlAltDel, handle_resize, resize_helper } from "../vendor/spice-html5/main.js";

const root = document.getElementById("console");
const screen = document.getElementById("console-screen");
const statusText = root.querySelector("[data-console-status]");
const vmStatusText = root.querySelector("[data-vm-status-text]");
const vm = { id: Number(root.dataset.vmId), name: root.dataset.vmName, status: root.dataset.vmStatus, host: root.dataset.vmHost };

const SHOWS_A_SCREEN = new Set(["up", "paused", "powering_up", "powering_down", "reboot_in_progress"]);
const RETRY_SECONDS = [1, 2, 4, 8, 15];

let spice = null;
let retries = 0;
let retryTimer = null;

// spice-html5 draws into an element with an id of its own choosing; it is ours.
screen.id = "console-screen";
const messages = document.createElement("div");
messages.id = "spice-messages";
messages.hidden = true;
document.body.append(messages);

function setState(state, words) {
  document.body.dataset.consoleState = state;
  statusText.textContent = words;
  statusText.className = `console__state console__state--${state}`;
  const connected = state === "connected";
  for (const control of root.querySelectorAll("[data-console-action='ctrl-alt-del'], [data-console-action='screenshot']")) {
    control.disabled = !connected;
  }
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

async function issueTicket() {
  const response = await fetch(root.dataset.ticketUrl, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": root.dataset.csrfToken },
    body: JSON.stringify({ protocol: "spice" }),
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
  if (!SHOWS_A_SCREEN.has(vm.status)) {
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
  showMessage("");
  const connection = new SpiceMainConn({
    uri: scheme + window.location.host + ticket.websocket_path,
    password: ticket.password,
    screen_id: screen.id,
    message_id: messages.id,
    onsuccess: () => {
      retries = 0;
      setState("connected", "Connected");
    },
    onerror: (error) => {
      if (spice !== connection) return;
      connection.stop();
      spice = null;
      const refused = error && error.message === "Permission denied.";
      setState(refused ? "refused" : "disconnected", refused ? "Refused: the password was not accepted" : "Connection lost");
      scheduleRetry();
    },
    onagent: (connected) => {
      window.addEventListener("resize", handle_resize);
      resize_helper(connected);
    },
  });
  spice = connection;
}

function disconnect() {
  if (spice) {
    const connection = spice;
    spice = null;
    connection.stop();
  }
}

function scheduleRetry() {
  clearTimeout(retryTimer);
  if (!SHOWS_A_SCREEN.has(vm.status)) return;
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
  const socket = new WebSocket(scheme + window.location.host + root.dataset.updatesPath);
  socket.addEventListener("message", (event) => {
    const update = JSON.parse(event.data);
    if (update.type !== "vm" || update.id !== vm.id) return;
    const moved = String(update.host ?? "") !== String(vm.host ?? "");
    const wasShowing = SHOWS_A_SCREEN.has(vm.status);
    vm.status = update.status;
    vm.host = update.host ?? "";
    vmStatusText.textContent = `VM ${(update.label || update.status).toLowerCase()}`;
    if (!SHOWS_A_SCREEN.has(vm.status)) {
      disconnect();
      clearTimeout(retryTimer);
      setState("waiting", "Waiting for the VM to run");
      showMessage(`VM ${vm.name} is ${(update.label || update.status).toLowerCase()}: this page connects by itself when it runs.`);
    } else if (moved || !wasShowing || !spice) {
      retries = 0;
      connect();
    }
  });
  socket.addEventListener("close", () => setTimeout(followVm, 3000));
}

function saveScreenshot() {
  const canvas = screen.querySelector("canvas");
  if (!canvas) return;
  canvas.toBlob((blob) => {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `${vm.name}-${new Date().toISOString().replace(/[:.]/g, "-")}.png`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }, "image/png");
}

root.addEventListener("click", (event) => {
  const button = event.target.closest("[data-console-action]");
  if (!button) return;
  switch (button.dataset.consoleAction) {
    case "ctrl-alt-del": sendCtrlAltDel(spice); break;
    case "screenshot": saveScreenshot(); break;
    case "fullscreen":
      if (document.fullscreenElement) document.exitFullscreen();
      else root.requestFullscreen?.();
      break;
    case "reconnect": retries = 0; connect(); break;
  }
});

// Typing keys and pasting go through the canvas in spice-html5: the VNC-only controls stay off.
for (const control of root.querySelectorAll("[data-console-action='paste'], [data-console-keys]")) {
  control.disabled = true;
  control.title = "Not available with SPICE in the browser";
}

followVm();
connect();
