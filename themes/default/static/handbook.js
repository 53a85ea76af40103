// Small enhancements of pages that already work without JavaScript: the phone menu, the
// "my level" chooser, and the exercise catalog's filters. Nothing here fetches anything.
"use strict";

function setUpMenu() {
  const toggle = document.querySelector(".menu-toggle");
  const header = document.querySelector(".site-header");
  if (!toggle || !header) return;
  toggle.hidden = false;
  const setOpen = (open) => {
    header.classList.toggle("menu-open", open);
    toggle.setAttribute("aria-expanded", String(open));
  };
  toggle.addEventListener("click", () => setOpen(!header.classList.contains("menu-open")));
  header.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && header.classList.contains("menu-open")) {
      setOpen(false);
      toggle.focus();
    }
  });
}

// -- my level ----------------------------------------------------------------------------------

const MY_LEVEL_KEY = `cophandbook:my-level:${location.host}${document.documentElement.dataset.base || "/"}`;

function readMyLevel() {
  try {
    return localStorage.getItem(MY_LEVEL_KEY) || "";
  } catch {
    return ""; // storage can be blocked; the chooser then lasts for this page only
  }
}

function storeMyLevel(level) {
  try {
    if (level) localStorage.setItem(MY_LEVEL_KEY, level);
    else localStorage.removeItem(MY_LEVEL_KEY);
  } catch {
    /* not remembered, still shown */
  }
}

function showMyLevel(chooser, mine) {
  const order = [...chooser.select.options].map((option) => option.value).filter(Boolean);
  const index = order.indexOf(mine);
  const next = index >= 0 ? order[index + 1] || "" : "";
  for (const tag of document.querySelectorAll(".my-level-tag")) tag.remove();
  for (const element of document.querySelectorAll("[data-level-id]")) {
    const id = element.dataset.levelId;
    element.classList.toggle("is-my-level", id === mine);
    element.classList.toggle("is-next-level", id === next);
    const label = element.querySelector("[data-level-label]");
    if (label && (id === mine || id === next)) {
      const tag = document.createElement("span");
      tag.className = "my-level-tag";
      tag.textContent = id === mine ? "Your level" : "Your next level";
      // Beside a heading rather than in it: a heading that mixes its link with other text
      // would need its link underlined to stand out.
      if (label.tagName === "TH") label.append(" ", tag);
      else label.after(tag);
    }
  }
  const hint = chooser.hint;
  hint.replaceChildren();
  if (index >= 0) {
    const name = chooser.select.options[chooser.select.selectedIndex].text;
    const link = document.createElement("a");
    link.href = chooser.form.dataset.levelHref.replace("__level__", mine);
    link.textContent = next ? "See what changes at the next level" : `What good looks like at ${name}`;
    hint.append(link);
  }
}

function setUpMyLevel() {
  const form = document.querySelector(".my-level");
  if (!form) return;
  const chooser = { form, select: form.querySelector("select"), hint: form.querySelector(".my-level-hint") };
  form.hidden = false;
  const stored = readMyLevel();
  if ([...chooser.select.options].some((option) => option.value === stored)) {
    chooser.select.value = stored;
  }
  showMyLevel(chooser, chooser.select.value);
  chooser.select.addEventListener("change", () => {
    storeMyLevel(chooser.select.value);
    showMyLevel(chooser, chooser.select.value);
  });
  form.addEventListener("submit", (event) => event.preventDefault());
}

// -- exercise catalog ---------------------------------------------------------------------------

function matches(item, { level, criterion, minutes }) {
  if (level && !item.dataset.levels.split(" ").includes(level)) return false;
  if (criterion) {
    const [skill, id] = criterion.split("/");
    if (item.dataset.skill !== skill || !item.dataset.criteria.split(" ").includes(id)) return false;
  }
  if (minutes) {
    const length = Number(item.dataset.minutes);
    if (!item.dataset.minutes || length > Number(minutes)) return false;
  }
  return true;
}

function setUpCatalogFilters() {
  const form = document.getElementById("catalog-filters");
  if (!form) return;
  const names = ["level", "criterion", "minutes"];
  const items = [...document.querySelectorAll(".catalog-skill li[data-levels]")];
  const total = new Set(items.map((item) => item.querySelector("a").href)).size;
  const count = form.querySelector(".filter-count");
  const params = new URLSearchParams(location.search);
  for (const name of names) {
    const select = form.elements[name];
    const wanted = params.get(name);
    if (wanted && [...select.options].some((option) => option.value === wanted)) select.value = wanted;
  }
  const apply = () => {
    const chosen = Object.fromEntries(names.map((name) => [name, form.elements[name].value]));
    const shown = new Set();
    for (const item of items) {
      // An exercise for several levels is listed under each; a chosen level shows one list.
      const section = item.closest(".catalog-level");
      const inLevel = !chosen.level || section?.dataset.levelId === chosen.level;
      const visible = inLevel && matches(item, chosen);
      item.hidden = !visible;
      if (visible) shown.add(item.querySelector("a").href);
    }
    for (const section of document.querySelectorAll(".catalog-level, .catalog-skill")) {
      const any = section.querySelector("li[data-levels]:not([hidden])");
      section.hidden = !any && Object.values(chosen).some(Boolean);
    }
    const filtered = Object.values(chosen).some(Boolean);
    count.textContent = filtered
      ? `${shown.size} of ${total} exercises match.${shown.size ? "" : " Clear a filter to see more."}`
      : `All ${total} exercises.`;
    const query = new URLSearchParams(
      Object.entries(chosen).filter(([, value]) => value),
    ).toString();
    history.replaceState(null, "", query ? `?${query}` : location.pathname);
  };
  form.hidden = false;
  form.addEventListener("change", apply);
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("reset", () => setTimeout(apply));
  apply();
}

function setUpPrintButton() {
  for (const button of document.querySelectorAll(".print-button")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
}

setUpMenu();
setUpPrintButton();
setUpMyLevel();
setUpCatalogFilters();
