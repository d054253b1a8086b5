// The new-VM wizard's little bit of behaviour; the steps themselves are
// server-rendered and swapped by htmx (templates/vms/wizard.html).
//
//   step 2: choosing an instance type fills memory and the CPU topology from the
//           option's data-* figures; changing a figure afterwards shows "Custom";
//           the vCPU total (sockets x cores x threads) follows as one types.
//   step 1: Enter in the OS search box searches instead of submitting the step;
//           choosing a template selects its operating system (the option's data-os).
//   phones: the step list folds under PatternFly's wizard toggle.
//   after each step swap, focus goes to the new step's heading (screen readers).
//
// Listeners sit on the document, so they survive the swaps.

const FIGURES = ["memory_mb", "cpu_sockets", "cpu_cores", "cpu_threads"];
const DATA_NAMES = {
  memory_mb: "memoryMb", cpu_sockets: "cpuSockets", cpu_cores: "cpuCores", cpu_threads: "cpuThreads",
};

function sizingField(form, name) {
  return form.querySelector(`[data-sizing="${name}"]`);
}

function showTotal(form) {
  const output = form.querySelector("[data-vcpu-total]");
  if (!output) return;
  const counts = ["cpu_sockets", "cpu_cores", "cpu_threads"].map((name) => Number(sizingField(form, name)?.value));
  const valid = counts.every((n) => Number.isInteger(n) && n > 0);
  const total = valid ? counts.reduce((a, b) => a * b, 1) : null;
  output.querySelector("[data-vcpu-number]").textContent = total === null ? "?" : String(total);
  output.querySelector("[data-vcpu-plural]").textContent = total === 1 ? "" : "s";
}

function fillFromPreset(form, select) {
  const option = select.selectedOptions[0];
  if (!option || !option.value) return; // "Custom" keeps the figures as they are
  for (const name of FIGURES) {
    const field = sizingField(form, name);
    const value = option.dataset[DATA_NAMES[name]];
    if (field && value !== undefined) field.value = value;
  }
  showTotal(form);
}

function customIfChanged(form) {
  const select = sizingField(form, "instance_type");
  const option = select?.selectedOptions[0];
  if (!option || !option.value) return;
  const differs = FIGURES.some((name) => sizingField(form, name)?.value !== option.dataset[DATA_NAMES[name]]);
  if (differs) select.value = "";
}

document.addEventListener("change", (event) => {
  const target = event.target;
  const form = target.closest?.("#vm-wizard");
  if (!form) return;
  if (target.matches('[data-sizing="instance_type"]')) fillFromPreset(form, target);
  if (target.matches("[data-template-select]")) {
    const os = target.selectedOptions[0]?.dataset.os;
    const osSelect = form.querySelector('select[name="basics-os_type"]');
    if (os && osSelect && [...osSelect.options].some((option) => option.value === os)) osSelect.value = os;
  }
  if (target.matches('input[name="profile-optimization"]')) {
    for (const card of form.querySelectorAll(".vm-profile")) {
      card.classList.toggle("pf-m-selected", card.contains(target));
    }
  }
});

document.addEventListener("input", (event) => {
  const target = event.target;
  const form = target.closest?.("#vm-wizard");
  if (!form || !target.matches("input[data-sizing]")) return;
  if (FIGURES.includes(target.dataset.sizing)) customIfChanged(form);
  showTotal(form);
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.target.id === "vm-os-search") {
    event.preventDefault();
    event.target.dispatchEvent(new Event("search", { bubbles: true }));
  }
});

document.addEventListener("click", (event) => {
  const toggle = event.target.closest?.("[data-wizard-toggle]");
  if (!toggle) return;
  const nav = document.getElementById(toggle.getAttribute("aria-controls"));
  const open = toggle.getAttribute("aria-expanded") !== "true";
  toggle.setAttribute("aria-expanded", String(open));
  toggle.classList.toggle("pf-m-expanded", open);
  nav?.classList.toggle("pf-m-expanded", open);
});

// A new step arrived: put the reader at its heading, and the page at its top.
document.body.addEventListener("htmx:afterSettle", (event) => {
  const wizard = document.getElementById("vm-wizard");
  if (!wizard || event.detail.target?.id !== "vm-wizard") return;
  const heading = wizard.querySelector("[data-wizard-heading]");
  const error = wizard.querySelector("[data-field-error], .pf-v6-c-alert.pf-m-danger");
  (error?.closest(".pf-v6-c-form__group, .pf-v6-c-alert") || heading)?.scrollIntoView({ block: "nearest" });
  if (wizard.getBoundingClientRect().top < 0) wizard.scrollIntoView({ block: "start" });
  heading?.focus({ preventScroll: true });
});
