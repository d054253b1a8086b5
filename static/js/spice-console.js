// The console page (templates/consoles/vm_console.html) for a VM whose console
// is SPICE: spice-html5 on the portal's own origin, through the same tickets
// as VNC (console-session.js: tickets, state, retries, following the VM's
// live status). The ticket's websocket path (/websockify?token=...&vm=...) is
// relayed to the VM's SPICE server, which asks for the one-time password the
// ticket's answer carries. spice-html5 opens one websocket per SPICE channel
// (main, display, inputs, cursor): a SPICE ticket admits them all until it expires.
import { SpiceMainConn, sendCtrlAltDel, handle_resize, resize_helper } from "../vendor/spice-html5/main.js";
import { consoleSession } from "./console-session.js";

// spice-html5 writes its messages into an element of the page, by id.
const messages = document.createElement("div");
messages.id = "spice-messages";
messages.hidden = true;
document.body.append(messages);

const session = consoleSession({
  protocol: "spice",
  controls: "[data-console-action='ctrl-alt-del'], [data-console-action='screenshot']",
  open(ticket, url, events) {
    const client = new SpiceMainConn({
      uri: url,
      password: ticket.password,
      screen_id: session.screen.id,
      message_id: messages.id,
      onsuccess: () => events.connected(),
      onerror: (error) => {
        client.stop();
        if (error && error.message === "Permission denied.") events.refused("Refused: the password was not accepted");
        else events.lost("Connection lost");
      },
      onagent: (connected) => {
        window.addEventListener("resize", handle_resize);
        resize_helper(connected);
      },
    });
    client.close = () => client.stop();
    return client;
  },
});
const { root } = session;

root.addEventListener("click", (event) => {
  const button = event.target.closest("[data-console-action]");
  if (!button) return;
  if (button.dataset.consoleAction === "ctrl-alt-del") sendCtrlAltDel(session.client());
  if (button.dataset.consoleAction === "screenshot") session.saveScreenshot();
});

// Typing keys and pasting go through the canvas in spice-html5: the VNC-only controls stay off.
for (const control of root.querySelectorAll("[data-console-action='paste'], [data-console-keys]")) {
  control.disabled = true;
  control.title = "Not available with SPICE in the browser";
}

session.start();
