// The console page (templates/consoles/vm_console.html) for a VNC console:
// noVNC on the portal's own origin, through console-session.js (tickets,
// state, retries, following the VM's live status), plus the toolbar:
// Ctrl+Alt+Del, send-keys, paste-as-typing, full screen, screenshot.
import RFB from "../vendor/novnc/core/rfb.js";
import { consoleSession } from "./console-session.js";

const session = consoleSession({
  protocol: "vnc",
  controls: "[data-console-action='ctrl-alt-del'], [data-console-action='paste'], [data-console-action='screenshot'], [data-console-keys]",
  open(ticket, url, events) {
    // The VM's VNC server is locked: the ticket's answer carries its one-time password.
    const credentials = ticket.password ? { password: ticket.password } : undefined;
    const client = new RFB(screen, url, { wsProtocols: ["binary"], credentials });
    client.scaleViewport = true;
    client.resizeSession = false;
    client.background = "#000";
    client.addEventListener("connect", () => events.connected());
    client.addEventListener("disconnect", (event) => events.lost(event.detail.clean ? "Disconnected" : "Connection lost"));
    client.addEventListener("securityfailure", (event) => {
      events.refused(`Refused: ${event.detail.reason || "security failure"}`);
    });
    client.addEventListener("desktopname", (event) => {
      document.title = `Console · ${event.detail.name || session.vm.name} · Portal`;
    });
    client.close = () => client.disconnect();
    return client;
  },
});
const { root, screen, vm } = session;
const rfbNow = () => session.client();
const keysMenu = root.querySelector("[data-console-keys]");
const pasteForm = root.querySelector("[data-console-paste]");
const pasteText = root.querySelector("[data-console-paste-text]");
const pasteNote = root.querySelector("[data-console-paste-note]");

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

function sendCombo(rfb, names) {
  for (const name of names) rfb.sendKey(KEY[name], null, true);
  for (const name of [...names].reverse()) rfb.sendKey(KEY[name], null, false);
}

// QEMU turns keysyms into the keys of a US keyboard without adding Shift
// itself: characters typed with Shift get it pressed around them.
const SHIFTED = new Set('~!@#$%^&*()_+{}|:"<>?ABCDEFGHIJKLMNOPQRSTUVWXYZ');

async function typeText(text) {
  let typed = 0;
  for (const char of text.replace(/\r\n?/g, "\n")) {
    const rfb = rfbNow();
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

root.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-console-action]");
  if (!button) return;
  switch (button.dataset.consoleAction) {  // reconnect and full screen: console-session.js
    case "ctrl-alt-del": rfbNow()?.sendCtrlAltDel(); break;
    case "screenshot": session.saveScreenshot(); break;
    case "paste":
      pasteForm.hidden = false;
      pasteNote.textContent = "";
      try {
        if (!pasteText.value) pasteText.value = await navigator.clipboard.readText();
      } catch { /* no clipboard access: the user pastes into the box */ }
      pasteText.focus();
      break;
  }
  rfbNow()?.focus();
});

keysMenu.addEventListener("change", () => {
  const rfb = rfbNow();
  if (rfb && COMBOS[keysMenu.value]) sendCombo(rfb, COMBOS[keysMenu.value]);
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
  rfbNow()?.focus();
});
root.querySelector("[data-console-paste-cancel]").addEventListener("click", () => { pasteForm.hidden = true; });

session.start();
