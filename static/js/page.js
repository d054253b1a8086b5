// Page chrome: the sidebar toggle and the jobs tray panel. Loaded on every page.

// PatternFly shows the sidebar by default from 75rem (1200px) up and hides it
// below. So on wide screens the toggle adds pf-m-collapsed, on narrow ones it
// adds pf-m-expanded; the other modifier is cleared so a resize never leaves
// both set.
const WIDE = window.matchMedia("(min-width: 75rem)");

function setupSidebar() {
  const toggle = document.getElementById("nav-toggle");
  const sidebar = document.getElementById("page-sidebar");
  if (!toggle || !sidebar) return;

  const isOpen = () =>
    WIDE.matches ? !sidebar.classList.contains("pf-m-collapsed") : sidebar.classList.contains("pf-m-expanded");
  const sync = () => toggle.setAttribute("aria-expanded", String(isOpen()));

  toggle.addEventListener("click", () => {
    const open = !isOpen();
    sidebar.classList.toggle("pf-m-collapsed", WIDE.matches && !open);
    sidebar.classList.toggle("pf-m-expanded", !WIDE.matches && open);
    sync();
  });
  WIDE.addEventListener("change", () => {
    sidebar.classList.remove("pf-m-collapsed", "pf-m-expanded");
    sync();
  });
  // On a phone the open sidebar covers the page: close it once a link is chosen.
  sidebar.addEventListener("click", (event) => {
    if (!WIDE.matches && event.target.closest("a")) sidebar.classList.remove("pf-m-expanded");
  });
  sync();
}

function setupJobTray() {
  const toggle = document.getElementById("job-tray-toggle");
  const panel = document.getElementById("job-tray");
  if (!toggle || !panel) return;

  const setOpen = (open) => {
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.classList.toggle("pf-m-expanded", open);
  };
  toggle.addEventListener("click", () => setOpen(panel.hidden));
  document.addEventListener("click", (event) => {
    if (!panel.hidden && !panel.contains(event.target) && !toggle.contains(event.target)) setOpen(false);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) {
      setOpen(false);
      toggle.focus();
    }
  });
}

setupSidebar();
setupJobTray();
