// What the three console pages share (console.js: VNC in noVNC,
// spice-console.js: SPICE in spice-html5, serial-console.js: the serial port
// in xterm.js): each connection asks for a fresh ticket
// (POST /api/v1/vms/<id>/console/ {protocol}) and opens the websocket path it
// names on the portal's own origin; the connection state shows in the toolbar
// (and on <body> for the tests); a lost connection is tried again with
// backoff; the VM's live status (/ws/updates/) decides when to connect again:
// when it runs again, or runs on another host after a migration.
//
// The page gives ``open(ticket, url, events)``, which starts its client and
// returns it with a ``close()``; the client reports through
// ``events.connected()``, ``events.lost(words)`` and ``events.refused(words)``.
// Reports of a client the page has since closed are ignored.

// The statuses in which the guest has a screen (vms/services/screenshot.py SHOWS_A_SCREEN).
export const SHOWS_A_SCREEN = new Set(["up", "paused", "powering_up", "powering_down", "reboot_in_progress"]);
const RETRY_SECONDS = [1, 2, 4, 8, 15];

export function consoleSession({ protocol, open, runs = SHOWS_A_SCREEN, controls = "", statusSuffix = "" }) {
  const root = document.getElementById("console");
  const screen = document.getElementById("console-screen");
  const statusText = root.querySelector("[data-console-status]");
  const vmStatusText = root.querySelector("[data-vm-status-text]");
  const vm = { id: Number(root.dataset.vmId), name: root.dataset.vmName, status: root.dataset.vmStatus,
               host: root.dataset.vmHost };
  let client = null;
  let attempt = 0; // each connect() counts one: a slower earlier one gives way to the latest
  let retries = 0;
  let retryTimer = null;

  function setState(state, words) {
    document.body.dataset.consoleState = state;
    statusText.textContent = words;
    statusText.className = `console__state console__state--${state}`;
    if (controls) {
      for (const control of root.querySelectorAll(controls)) control.disabled = state !== "connected";
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
      body: JSON.stringify({ protocol }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(body.detail || `The portal answered ${response.status}.`);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  function websocketUrl(path) {
    return (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + path;
  }

  async function connect() {
    const mine = ++attempt;
    clearTimeout(retryTimer);
    disconnect();
    if (!runs.has(vm.status)) {
      setState("waiting", "Waiting for the VM to run");
      return;
    }
    setState("connecting", "Connecting…");
    let ticket;
    try {
      ticket = await issueTicket();
    } catch (error) {
      if (mine !== attempt) return;
      setState("refused", error.message);
      // 403: no console rights; nothing to retry. 409 (not running yet), 503: try again.
      if (error.status !== 403) scheduleRetry();
      return;
    }
    if (mine !== attempt) return; // two updates in a row: only the last one connects
    showMessage("");
    let opened = null;
    const events = {
      connected() {
        if (client !== opened) return;
        retries = 0;
        setState("connected", "Connected");
      },
      lost(words) {
            if (client !== opened) return;
        client = null;
        setState("disconnected", words);
        scheduleRetry();
      },
      refused(words) {
        if (client !== opened) return;
        setState("refused", words);
      },
    };
    opened = open(ticket, websocketUrl(ticket.websocket_path), events);
    client = opened;
  }

  function disconnect() {
    if (!client) return;
    const closing = client;
    client = null; // first: what it reports while closing is not ours any more
    closing.close();
  }

  function scheduleRetry() {
    clearTimeout(retryTimer);
    if (!runs.has(vm.status)) return; // the live status brings us back
    if (retries >= RETRY_SECONDS.length) {
      setState("disconnected", "Disconnected: press Reconnect");
      return;
    }
    const seconds = RETRY_SECONDS[retries++];
    statusText.textContent += ` (again in ${seconds} s)`;
    retryTimer = setTimeout(connect, seconds * 1000);
  }

  function followVm() {
    const updates = new WebSocket(websocketUrl(root.dataset.updatesPath));
    updates.addEventListener("message", (event) => {
      const update = JSON.parse(event.data);
      if (update.type !== "vm" || update.id !== vm.id) return;
      const moved = String(update.host ?? "") !== String(vm.host ?? "");
      const wasRunning = runs.has(vm.status);
      const label = (update.label || update.status).toLowerCase();
      vm.status = update.status;
      vm.host = update.host ?? "";
      vmStatusText.textContent = `VM ${label}${statusSuffix}`;
      if (!runs.has(vm.status)) {
        disconnect();
        clearTimeout(retryTimer);
        setState("waiting", "Waiting for the VM to run");
        showMessage(`VM ${vm.name} is ${label}: this page connects by itself when it runs.`);
      } else if (moved || !wasRunning || !client) {
        retries = 0;
        connect();
      }
    });
    updates.addEventListener("close", () => setTimeout(followVm, 3000));
  }

  root.addEventListener("click", (event) => {
    const button = event.target.closest("[data-console-action]");
    if (!button) return;
    if (button.dataset.consoleAction === "reconnect") { retries = 0; connect(); }
    if (button.dataset.consoleAction === "fullscreen") {
      if (document.fullscreenElement) document.exitFullscreen();
      else root.requestFullscreen?.();
    }
  });
  window.addEventListener("beforeunload", disconnect);

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

  return {
    root, screen, vm, saveScreenshot,
    client: () => client,
    start() { followVm(); connect(); },
  };
}
