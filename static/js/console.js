// The console page (templates/consoles/vm_console.html): noVNC on the portal's
// own origin. Each connection asks for a fresh single-use ticket
// (POST /api/v1/vms/<id>/console/) and opens the websocket path it names
// (/websockify?token=...&vm=...). The VM's live status (/ws/updates/) decides
// when to connect again: after a migration the VM runs on another host, and
// the next ticket leads there.
import RFB from "../vendor/novnc/core/rfb.js";

const root = document.getElementById("console");
const screen = document.getElementById("console-screen");
const statusText = root.querySelector("[data-console-status]");
const vmStatusText = root.querySelector("[data-vm-status-text]");
const keysMenu = root.querySelector("[data-console-keys]");
const pasteForm = root.querySelector("[data-console-paste]");
const pasteText = root.querySelector("[data-console-paste-text]");
const pasteNote = root.querySelector("[data-console-paste-note]");
const vm = { id: Number(root.dataset.vmId), name: root.dataset.vmName, status: root.dataset.vmStatus, host: root.dataset.vmHost };

// The statuses in which the guest has a screen (vms/services/screenshot.py SHOWS_A_SCREEN).
const SHOWS_A_SCREEN = new Set(["up", "paused", "powering_up", "powering_down", "reboot_in_progress"]);
const RETRY_SECONDS = [1, 2, 4, 8, 15];

let rfb = null;
let retries = 0;
let retryTimer = null;
let userClosed = false;

// --- state shown in the toolbar (and on <body> for tests) ----------------------

function setState(state, words) {
  document.body.dataset.consoleState = state;
  statusText.textContent = words;
  statusText.className = `console__state console__state--${state}`;
  const connected = state === "connected";
  for (const control of root.querySelectorAll("[data-console-action='ctrl-alt-del'], [data-console-action='paste'], [data-console-action='screenshot'], [data-console-keys]")) {
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

// --- connecting -------------------------------------------------------------------

async function issueTicket() {
  const response = await fetch(root.dataset.ticketUrl, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": root.dataset.csrfToken },
    body: JSON.stringify({ protocol: root.dataset.protocol }),
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
    // 403: no console rights; nothing to retry. 409 (not running yet), 503: try again.
    if (error.status !== 403) scheduleRetry();
    return;
  }
  const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  const url = scheme + window.location.host + ticket.websocket_path;
  showMessage("");
  // The VM's VNC server is locked: the ticket's answer carries its one-time password.
  const credentials = ticket.password ? { password: ticket.password } : undefined;
  rfb = new RFB(screen, url, { wsProtocols: ["binary"], credentials });
  rfb.scaleViewport = true;
  rfb.resizeSession = false;
  rfb.background = "#000";
  rfb.addEventListener("connect", () => {
    retries = 0;
    setState("connected", "Connected");
  });
  rfb.addEventListener("disconnect", (event) => {
    rfb = null;
    if (userClosed) return;
    setState("disconnected", event.detail.clean ? "Disconnected" : "Connection lost");
    scheduleRetry();
  });
  rfb.addEventListener("securityfailure", (event) => {
    setState("refused", `Refused: ${event.detail.reason || "security failure"}`);
  });
  rfb.addEventListener("desktopname", (event) => {
    document.title = `Console · ${event.detail.name || vm.name} · Portal`;
  });
}

function disconnect() {
  if (rfb) {
    userClosed = true;
    rfb.disconnect();
    rfb = null;
  }
}

function scheduleRetry() {
  clearTimeout(retryTimer);
  if (!SHOWS_A_SCREEN.has(vm.status)) return; // the live status brings us back
  if (retries >= RETRY_SECONDS.length) {
    setState("disconnected", "Disconnected: press Reconnect");
    return;
  }
  const seconds = RETRY_SECONDS[retries++];
  statusText.textContent += ` (again in ${seconds} s)`;
  retryTimer = setTimeout(connect, seconds * 1000);
}

// --- the VM's live status: reconnect when it runs again, or elsewhere ------------

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
    const showing = SHOWS_A_SCREEN.has(vm.status);
    if (!showing) {
      disconnect();
      clearTimeout(retryTimer);
      setState("waiting", "Waiting for the VM to run");
      showMessage(`VM ${vm.name} is ${(update.label || update.status).toLowerCase()}: this page connects by itself when it runs.`);
    } else if (moved || !wasShowing || !rfb) {
      retries = 0;
      connect();
    }
  });
  socket.addEventListener("close", () => setTimeout(followVm, 3000));
}

// --- the toolbar ------------------------------------------------------------------

// X11 keysyms (noVNC's core/input/keysym.js names them; numbers keep this file free of its internals).
const KEY = {
  ctrl: 0xffe3, alt: 0xffe9, shift: 0xffe1, super: 0xffeb, tab: 0xff09, enter: 0xff0d, backspace: 0xff08,
  escape: 0xff1b, print: 0xff61, f1: 0xffbe, f2: 0xffbf, f3: 0xffc0, f4: 0xffc1, f7: 0xffc4,
};
const COMBOS = {
  "ctrl-alt-f1": ["ctrl", "alt", "f1"], "ctrl-alt-f2": ["ctrl", "alt", "f2"], "ctrl-alt-f3": ["ctrl", "alt", "f3"],
  "ctrl-alt-f7": ["ctrl", "alt", "f7"], "ctrl-alt-backspace": ["ctrl", "alt", "backspace"],
  "alt-tab": ["alt", "tab"], "alt-f4": ["alt", "f4"], "escape": ["escape"], "print": ["print"], "super": ["super"],
};

function sendCombo(names) {
  for (const name of names) rfb.sendKey(KEY[name], null, true);
  for (const name of [...names].reverse()) rfb.sendKey(KEY[name], null, false);
}

// QEMU turns keysyms into the keys of a US keyboard without adding Shift
// itself: characters typed with Shift get it pressed around them.
const SHIFTED = new Set('~!@#$%^&*()_+{}|:"<>?ABCDEFGHIJKLMNOPQRSTUVWXYZ');

async function typeText(text) {
  let typed = 0;
  for (const char of text.replace(/\r\n?/g, "\n")) {
    if (!rfb) break;
    const code = char.codePointAt(0);
    if (char === "\n") rfb.sendKey(KEY.enter, "Enter");
    else if (char === "\t") rfb.sendKey(KEY.tab, "Tab");
    else if (code >= 0x20 && code <= 0x7e) {
      const shift = SHIFTED.has(char);
      if (shift) rfb.sendKey(KEY.shift, "ShiftLeft", true);
      rfb.sendKey(code, null);
      if (shift) rfb.sendKey(KEY.shift, "ShiftLeft", false);
    } else continue; // no key types it on a US keyboard
    typed += 1;
    if (typed % 16 === 0) await new Promise((resolve) => setTimeout(resolve, 15)); // let the guest keep up
  }
  return typed;
}

function saveScreenshot() {
  const canvas = screen.querySelector("canvas");
  if (!canvas) return;
  canvas.toBlob((blob) => {
    const link = document.createElement("a");
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    link.href = URL.createObjectURL(blob);
    link.download = `${vm.name}-${stamp}.png`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }, "image/png");
}

root.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-console-action]");
  if (!button) return;
  switch (button.dataset.consoleAction) {
    case "ctrl-alt-del": rfb?.sendCtrlAltDel(); break;
    case "screenshot": saveScreenshot(); break;
    case "fullscreen":
      if (document.fullscreenElement) document.exitFullscreen();
      else root.requestFullscreen?.();
      break;
    case "reconnect": retries = 0; connect(); break;
    case "paste":
      pasteForm.hidden = false;
      pasteNote.textContent = "";
      try {
        if (!pasteText.value) pasteText.value = await navigator.clipboard.readText();
      } catch { /* no clipboard access: the user pastes into the box */ }
      pasteText.focus();
      break;
  }
  rfb?.focus();
});

keysMenu.addEventListener("change", () => {
  if (rfb && COMBOS[keysMenu.value]) sendCombo(COMBOS[keysMenu.value]);
  keysMenu.value = "";
  rfb?.focus();
});

pasteForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const typed = await typeText(pasteText.value);
  pasteNote.textContent = `${typed} characters typed.`;
  pasteForm.dataset.typed = String(typed);
  pasteForm.hidden = true;
  pasteText.value = "";
  rfb?.focus();
});
root.querySelector("[data-console-paste-cancel]").addEventListener("click", () => { pasteForm.hidden = true; });

window.addEventListener("beforeunload", disconnect);
followVm();
connect();
