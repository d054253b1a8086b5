// Live updates: one websocket per page to /ws/updates/ (API.md "Live updates").
// The server renders every page complete; this only moves what changes by
// itself afterwards: job progress and status, the jobs tray, the status of
// hosts, VMs, storage domains and networks.
//
// Markup contract (see templates/):
//   [data-job-id="7"]                 something showing job 7 (tray row, table row, detail page)
//     [data-job-field="status"]       wraps its status label
//     [data-job-field="progress"]     a .pf-v6-c-progress (templates/includes/progress.html)
//     [data-job-step="Connect"]       a step row (job detail), with its own status/progress fields
//   [data-job-detail]                 the job detail block, reloaded when the job ends
//   [data-refresh-on-jobs][id]        reloaded (same URL, same id) when a job starts or ends
//   [data-job-count]                  the masthead badge counting active jobs
//   [data-live-object="vm:4"]         wraps the status label of an object (host, vm, storagedomain,
//                                     network); its reason goes in [data-live-reason] inside it, or
//                                     in its tooltip when it has none
//   [data-refresh-on-object="vm:4"][id]  reloaded when that object's status changes
//   [data-live-vm-host="4"][id]       VM 4's host cell (data-host: the host's id), reloaded when the VM
//                                     moves to another host

const ACTIVE = new Set(["pending", "running"]);

// The label class of each ChoiceSet colour and the words and colours of the
// jobs' and steps' statuses, from the server (the live_labels_json tag in
// base.html), so there is one truth. Other objects' updates carry their own
// label and colour (core/status.py).
const LIVE = JSON.parse(document.getElementById("live-labels")?.textContent || "{}");
const LABEL_CLASSES = LIVE.classes || {};
const ALL_LABEL_CLASSES = Object.values(LABEL_CLASSES).filter(Boolean);
const BAR_STATES = { failed: "pf-m-danger", succeeded: "pf-m-success", done: "pf-m-success", cancelled: "pf-m-warning" };

const trayBody = document.getElementById("job-tray-body");
const trayUrl = trayBody?.getAttribute("hx-get");
let activeJobs = new Set(); // ids (strings) of the jobs the tray last listed as active

function flash(el) {
  el.classList.remove("portal-flash");
  void el.offsetWidth; // restart the animation if it is still running
  el.classList.add("portal-flash");
  el.addEventListener("animationend", () => el.classList.remove("portal-flash"), { once: true });
}

// choice: {label, colour} of the new status.
function setLabel(label, value, choice) {
  if (!label || label.dataset.status === value) return;
  label.classList.remove(...ALL_LABEL_CLASSES);
  const css = LABEL_CLASSES[choice?.colour];
  if (css) label.classList.add(css);
  label.dataset.status = value;
  const text = label.querySelector(".pf-v6-c-label__text");
  if (text) text.textContent = choice?.label || value;
  flash(label);
}

function setProgress(progress, percent, status) {
  const pct = Math.max(0, Math.min(100, Math.round(Number(percent) || 0)));
  const indicator = progress.querySelector(".pf-v6-c-progress__indicator");
  const bar = progress.querySelector(".pf-v6-c-progress__bar");
  const measure = progress.querySelector(".pf-v6-c-progress__measure");
  if (indicator) indicator.style.width = `${pct}%`;
  if (bar) bar.setAttribute("aria-valuenow", String(pct));
  if (measure) measure.textContent = `${pct}%`;
  progress.classList.remove(...Object.values(BAR_STATES));
  if (BAR_STATES[status]) progress.classList.add(BAR_STATES[status]);
}

// The fields of `owner` itself: a job's own fields, not those of the step rows
// (or other jobs) nested inside it, which carry their own status.
function ownFields(owner, name) {
  return [...owner.querySelectorAll(`[data-job-field="${name}"]`)].filter(
    (field) => field.closest("[data-job-step], [data-job-id]") === owner,
  );
}

function updateFields(owner, kind, status, progress) {
  const choice = LIVE.choices?.[kind]?.[status];
  for (const field of ownFields(owner, "status")) setLabel(field.querySelector(".pf-v6-c-label"), status, choice);
  for (const field of ownFields(owner, "progress")) setProgress(field, progress, status);
}

// Re-fetch this page and swap in the fresh copy of one element (by id). Bursts
// of messages (a job's steps tick quickly) collapse into one request.
const pendingReloads = new Map();
function reloadElement(el) {
  if (!el.id || !window.htmx) return;
  clearTimeout(pendingReloads.get(el.id));
  pendingReloads.set(el.id, setTimeout(() => {
    pendingReloads.delete(el.id);
    const selector = `#${CSS.escape(el.id)}`;
    htmx.ajax("GET", location.href, { target: selector, select: selector, swap: "outerHTML" });
  }, 250));
}

let trayTimer;
function refreshTray() {
  if (!trayUrl || !window.htmx) return;
  clearTimeout(trayTimer);
  trayTimer = setTimeout(() => htmx.ajax("GET", trayUrl, { target: "#job-tray-body", swap: "innerHTML" }), 250);
}

function showCount() {
  for (const badge of document.querySelectorAll("[data-job-count]")) {
    badge.textContent = String(activeJobs.size);
    badge.classList.toggle("pf-m-unread", activeJobs.size > 0);
    badge.classList.toggle("pf-m-read", activeJobs.size === 0);
  }
  document.getElementById("job-tray-toggle")?.setAttribute(
    "title", activeJobs.size === 1 ? "1 job running" : `${activeJobs.size} jobs running`,
  );
}

// Whenever the tray body is (re)loaded, it is the truth about which jobs are active.
document.body.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target !== trayBody) return;
  const ids = trayBody.querySelector("[data-active-ids]")?.dataset.activeIds || "";
  activeJobs = new Set(ids.split(",").filter(Boolean));
  showCount();
});

function onJob(msg) {
  const id = String(msg.id);
  for (const el of document.querySelectorAll(`[data-job-id="${CSS.escape(id)}"]`)) {
    updateFields(el, "job", msg.status, msg.progress);
    if (el.hasAttribute("data-job-detail")) updateJobDetail(el, msg);
  }

  // A job that starts or ends changes the tray, the counter and job lists;
  // a job that merely moves on does not.
  const wasActive = activeJobs.has(id);
  const isActive = ACTIVE.has(msg.status);
  if (wasActive !== isActive) {
    if (isActive) activeJobs.add(id);
    else activeJobs.delete(id);
    showCount();
    refreshTray();
    document.querySelectorAll("[data-refresh-on-jobs][id]").forEach(reloadElement);
  }
}

function updateJobDetail(el, msg) {
  let unknownStep = false;
  for (const step of msg.steps || []) {
    const row = el.querySelector(`[data-job-step="${CSS.escape(step.name)}"]`);
    if (row) updateFields(row, "step", step.status, step.progress);
    else unknownStep = true;
  }
  // The error alert, end time and final events only exist server-side: reload
  // the block when the job ends, or when a step appears that has no row yet.
  const ended = ACTIVE.has(el.dataset.jobStatus) && !ACTIVE.has(msg.status);
  el.dataset.jobStatus = msg.status;
  if (ended || unknownStep) reloadElement(el);
}

// Every other update is an object's status, one shape for all kinds
// ({type, id, status, reason, label, colour}: core/status.py).
function onObjectStatus(msg) {
  const key = CSS.escape(`${msg.type}:${msg.id}`);
  for (const el of document.querySelectorAll(`[data-live-object="${key}"]`)) {
    setLabel(el.querySelector(".pf-v6-c-label"), msg.status, msg);
    const reason = el.querySelector("[data-live-reason]");
    if (reason) {
      reason.textContent = msg.reason || "";
      reason.hidden = !msg.reason;
    } else el.title = msg.reason || "";
  }
  // Parts whose content follows the status (a VM page's action buttons) are fetched again.
  document.querySelectorAll(`[data-refresh-on-object="${key}"][id]`).forEach(reloadElement);
  EXTRAS[msg.type]?.(msg);
}

// What one kind adds to its updates.
const EXTRAS = {
  // The host link of a VM that moved to another host (or off any) is drawn again by the server.
  vm(msg) {
    for (const cell of document.querySelectorAll(`[data-live-vm-host="${CSS.escape(String(msg.id))}"][id]`)) {
      if (cell.dataset.host !== String(msg.host ?? "")) reloadElement(cell);
    }
  },
};

// ---- the socket, reconnecting with backoff ----

const UNAUTHENTICATED = 4401; // core/consumers.py: the session ended, a reload shows the login page
let retryDelay = 1000;
let connectedBefore = false;

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/updates/`);

  socket.addEventListener("open", () => {
    retryDelay = 1000;
    document.documentElement.dataset.live = "connected";
    // Messages sent while we were away are lost: catch up on what matters most.
    if (connectedBefore) {
      refreshTray();
      document.querySelectorAll("[data-refresh-on-jobs][id], [data-job-detail][id]").forEach(reloadElement);
    }
    connectedBefore = true;
  });

  socket.addEventListener("message", (event) => {
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      return;
    }
    if (msg.type === "job") onJob(msg);
    else if (msg.status) onObjectStatus(msg);
  });

  socket.addEventListener("close", (event) => {
    document.documentElement.dataset.live = "disconnected";
    if (event.code === UNAUTHENTICATED) return;
    // Jitter, so that many tabs do not all come back in the same instant after a restart.
    setTimeout(connect, retryDelay * (1 + Math.random() / 2));
    retryDelay = Math.min(retryDelay * 2, 30000);
  });
}

connect();
