// The image upload page: sends the form to the API with XMLHttpRequest so the
// PatternFly progress bar follows the bytes (xhr.upload.onprogress). On 201 it
// goes to the images (or the storage domain's) page; on 400 the messages appear
// next to the fields or in a danger alert, and what was chosen stays chosen.
// Without JavaScript the form posts to the page itself, which does the same.

const form = document.getElementById("image-upload-form");

function csrfToken() {
  return form.querySelector("input[name=csrfmiddlewaretoken]").value;
}

function text(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content !== undefined) node.textContent = content;
  return node;
}

function dangerAlert(title) {
  const alert = text("div", "pf-v6-c-alert pf-m-inline pf-m-danger");
  const icon = text("div", "pf-v6-c-alert__icon");
  icon.innerHTML = '<i class="fas fa-fw fa-exclamation-circle" aria-hidden="true"></i>';
  const heading = text("p", "pf-v6-c-alert__title");
  heading.append(text("span", "pf-v6-screen-reader", "Error:"), ` ${title}`);
  alert.append(icon, heading);
  return alert;
}

function fieldError(name, message) {
  const helper = text("div", "pf-v6-c-form__helper-text");
  helper.setAttribute("aria-live", "polite");
  const inner = text("div", "pf-v6-c-helper-text");
  const item = text("div", "pf-v6-c-helper-text__item pf-m-error");
  const span = text("span", "pf-v6-c-helper-text__item-text", message);
  span.dataset.fieldError = name;
  item.append(span);
  inner.append(item);
  helper.append(inner);
  return helper;
}

function clearErrors() {
  form.querySelector("#upload-alert").replaceChildren();
  form.querySelectorAll("[data-errors-for]").forEach((box) => box.replaceChildren());
  form.querySelectorAll("[data-control-for]").forEach((box) => box.classList.remove("pf-m-error"));
}

// {"field": ["..."]} next to the fields; {"detail": "..."} or unknown fields in the alert.
function showErrors(body) {
  const alertBox = form.querySelector("#upload-alert");
  for (const [name, messages] of Object.entries(body || {})) {
    if (name === "code") continue; // the portal's error code beside "detail": not for people
    const list = Array.isArray(messages) ? messages : [String(messages)];
    const box = form.querySelector(`[data-errors-for="${CSS.escape(name)}"]`);
    if (box) {
      list.forEach((message) => box.append(fieldError(name, message)));
      form.querySelector(`[data-control-for="${CSS.escape(name)}"]`)?.classList.add("pf-m-error");
    } else {
      list.forEach((message) => alertBox.append(dangerAlert(message)));
    }
  }
  if (!alertBox.children.length && !form.querySelector("[data-field-error]")) {
    alertBox.append(dangerAlert("The upload was refused."));
  }
  (alertBox.firstElementChild || form.querySelector("[data-field-error]"))?.scrollIntoView({ block: "center" });
}

function mib(bytes) {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

const progressBox = document.getElementById("upload-progress");
const progress = progressBox.querySelector(".pf-v6-c-progress");
const submit = document.getElementById("upload-submit");
const stop = document.getElementById("upload-cancel");

function setProgress(percent, label, state = "") {
  progress.classList.remove("pf-m-success", "pf-m-danger");
  if (state) progress.classList.add(`pf-m-${state}`);
  progress.querySelector(".pf-v6-c-progress__description").textContent = label;
  progress.querySelector(".pf-v6-c-progress__measure").textContent = `${percent}%`;
  progress.querySelector(".pf-v6-c-progress__indicator").style.width = `${percent}%`;
  const bar = progress.querySelector(".pf-v6-c-progress__bar");
  bar.setAttribute("aria-valuenow", String(percent));
  bar.setAttribute("aria-label", label);
}

function busy(on) {
  submit.disabled = on;
  submit.classList.toggle("pf-m-in-progress", on);
  stop.hidden = !on;
  form.querySelectorAll("input, select").forEach((field) => {
    if (field.type !== "hidden") field.disabled = on;
  });
}

// The name defaults to the file's.
const nameField = form.elements.namedItem("name");
form.elements.namedItem("file").addEventListener("change", (event) => {
  const file = event.target.files[0];
  if (file && !nameField.value.trim()) nameField.value = file.name;
});

let current = null;
stop.addEventListener("click", () => current?.abort());

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (current) return;
  clearErrors();
  const data = new FormData(form); // before the fields are disabled
  data.delete("csrfmiddlewaretoken");
  const domain = data.get("storage_domain") || "";
  const file = data.get("file");
  if (!(file instanceof File) || !file.name) {
    showErrors({ file: ["Choose a file to upload."] });
    return;
  }
  const xhr = new XMLHttpRequest();
  current = xhr;
  xhr.open("POST", `${form.dataset.apiUrl}?storage_domain=${encodeURIComponent(domain)}`);
  xhr.setRequestHeader("X-CSRFToken", csrfToken());
  xhr.setRequestHeader("Accept", "application/json");
  xhr.responseType = "json";
  xhr.upload.onprogress = (e) => {
    if (!e.lengthComputable) return;
    const percent = Math.floor((100 * e.loaded) / e.total);
    setProgress(percent, `Uploading ${file.name}: ${mib(e.loaded)} of ${mib(e.total)}`);
  };
  xhr.upload.onload = () => setProgress(100, `Checking ${file.name} with qemu-img…`);
  const finish = () => {
    current = null;
    busy(false);
  };
  xhr.onload = () => {
    if (xhr.status === 201) {
      const image = xhr.response || {};
      setProgress(100, `Uploaded ${image.name || file.name} (${image.format || "?"})`, "success");
      const target = form.dataset.doneDomain ? form.dataset.doneUrl.replace(/\/0\/$/, `/${image.storage_domain}/`) : form.dataset.doneUrl;
      window.location.assign(target);
      return;
    }
    finish();
    progressBox.hidden = true; // the messages say why
    const body = xhr.response;
    if (body && typeof body === "object") showErrors(body);
    else showErrors({ detail: `The server answered ${xhr.status} ${xhr.statusText}.` });
  };
  xhr.onerror = () => {
    finish();
    setProgress(0, "Not uploaded", "danger");
    showErrors({ detail: "The connection to the portal was lost during the upload." });
  };
  xhr.onabort = () => {
    finish();
    setProgress(0, "Upload stopped", "danger");
  };
  progressBox.hidden = false;
  setProgress(0, `Uploading ${file.name}`);
  busy(true);
  xhr.send(data);
});
