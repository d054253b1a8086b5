// The serial console page (templates/consoles/vm_serial.html): xterm.js on the
// portal's own origin, through console-session.js (tickets, state, retries,
// following the VM's live status). A ticket of protocol "serial" names the
// websocket path (/ws/serial/?token=...&vm=...), which relays bytes both ways
// to the VM's first serial port (consoles/serial.py).
import { Terminal } from "../vendor/xterm/xterm.mjs";
import { FitAddon } from "../vendor/xterm/addon-fit.mjs";
import { consoleSession } from "./console-session.js";

// The statuses in which the VM's process runs, so its serial port exists.
const RUNNING = new Set(["up", "paused", "powering_up", "powering_down", "reboot_in_progress", "migrating"]);

const terminal = new Terminal({ convertEol: false, cursorBlink: true, scrollback: 5000,
                                fontFamily: "monospace", theme: { background: "#000000" } });
const encoder = new TextEncoder();

const session = consoleSession({
  protocol: "serial",
  runs: RUNNING,
  statusSuffix: " · serial console",
  open(ticket, url, events) {
    const socket = new WebSocket(url, ["binary"]);
    socket.binaryType = "arraybuffer";
    socket.addEventListener("open", () => {
      events.connected();
      terminal.focus();
      socket.send(encoder.encode("\r")); // a fresh prompt: the guest printed its last one before we came
    });
    socket.addEventListener("message", (event) => {
      terminal.write(typeof event.data === "string" ? event.data : new Uint8Array(event.data));
    });
    socket.addEventListener("close", () => events.lost("Disconnected"));
    return socket;
  },
});

terminal.onData((data) => {
  const socket = session.client();
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(encoder.encode(data));
});

// Fill the window: as many rows and columns as fit.
const fitter = new FitAddon();
terminal.loadAddon(fitter);
const fit = () => fitter.fit();
terminal.open(session.screen);
window.addEventListener("resize", fit);
requestAnimationFrame(fit);
window.portalTerminal = terminal; // tests read what the guest printed from it
session.start();
