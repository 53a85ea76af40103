// Small enhancements of pages that already work without JavaScript: the phone menu, the
// member's level in each skill (chosen, or from their self-assessment), and the exercise
// catalog's filters. Nothing here fetches anything; what a member chooses stays in
// localStorage (docs/security.md lists the keys).
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

// -- my level, per skill ------------------------------------------------------------------------

// Shared with assess.js and calibrate.js, which run after this script.
const SITE = `${location.host}${document.documentElement.dataset.base || "/"}`;
const LEVELS = (document.documentElement.dataset.levels || "").split(" ").filter(Boolean);

const store = {
  get(key) {
    try {
      return localStorage.getItem(key);
    } catch {
      return null; // storage can be blocked: then nothing is remembered between pages
    }
  },
  set(key, value) {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch {
      /* not remembered, still shown */
    }
  },
  json(key) {
    try {
      return JSON.parse(store.get(key) || "null");
    } catch {
      return null;
    }
  },
};

// "4 December 2026", as the pages write dates.
function longDate(date) {
  if (Number.isNaN(date.getTime())) return "";
  const month = date.toLocaleDateString(document.documentElement.lang || undefined, { month: "long" });
  return `${date.getDate()} ${month} ${date.getFullYear()}`;
}

// Saves text the page made as a file the member keeps (nothing is sent anywhere).
function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

const levelKey = (skill) => `cophandbook:my-level:${SITE}:${skill}`;
// Before levels were kept per skill, one level stood for the whole site.
const SITE_LEVEL_KEY = `cophandbook:my-level:${SITE}`;

// {level, from: "chosen" | "assessment"} for a skill, or null.
function myLevel(skill) {
  const kept = store.json(levelKey(skill));
  if (kept) return LEVELS.includes(kept.level) ? kept : null;
  const old = store.get(SITE_LEVEL_KEY);
  return LEVELS.includes(old) ? { level: old, from: "chosen" } : null;
}

function setMyLevel(skill, level, from) {
  store.set(levelKey(skill), level ? JSON.stringify({ level, from }) : JSON.stringify({ level: "" }));
  markLevels();
}

function levelTag(mine, short) {
  const tag = document.createElement("span");
  tag.className = "my-level-tag";
  if (short) {
    tag.textContent = mine ? "you" : "next";
    tag.title = mine ? "Your level" : "Your next level";
  } else {
    tag.textContent = mine ? "Your level" : "Your next level";
  }
  return tag;
}

// Marks every [data-level-id] inside a [data-skill] with the member's level in that skill
// and the next one, with a text tag beside its [data-level-label] (not colour alone).
function markLevels() {
  for (const tag of document.querySelectorAll(".my-level-tag")) tag.remove();
  for (const element of document.querySelectorAll("[data-level-id]")) {
    const scope = element.closest("[data-skill]");
    const mine = (scope && myLevel(scope.dataset.skill)?.level) || "";
    const next = mine ? LEVELS[LEVELS.indexOf(mine) + 1] || "" : "";
    const id = element.dataset.levelId;
    const isMine = Boolean(mine) && id === mine;
    const isNext = Boolean(next) && id === next;
    element.classList.toggle("is-my-level", isMine);
    element.classList.toggle("is-next-level", isNext);
    const label = element.matches("[data-level-label]") ? element : element.querySelector("[data-level-label]");
    if (!label || !(isMine || isNext)) continue;
    const short = label.dataset.levelLabel === "short";
    // Beside a heading or link rather than in it: a heading that mixes its link with other
    // text would need its link underlined to stand out.
    if (/^(TH|TD|DT)$/.test(label.tagName)) label.append(" ", levelTag(isMine, short));
    else label.after(levelTag(isMine, short));
  }
  for (const chooser of document.querySelectorAll(".my-level")) showChooser(chooser);
}

function showChooser(form) {
  const skill = form.closest("[data-skill]")?.dataset.skill;
  const select = form.querySelector("select");
  const hint = form.querySelector(".my-level-hint");
  const kept = skill ? myLevel(skill) : null;
  select.value = kept ? kept.level : "";
  hint.replaceChildren();
  if (!kept) return;
  const index = LEVELS.indexOf(kept.level);
  if (kept.from === "assessment") {
    const from = document.createElement("span");
    from.textContent = "From your self-assessment. ";
    hint.append(from);
  }
  const link = document.createElement("a");
  link.href = form.dataset.levelHref.replace("__level__", kept.level);
  const name = select.options[select.selectedIndex].text;
  link.textContent = LEVELS[index + 1] ? "See what changes at the next level" : `What good looks like at ${name}`;
  hint.append(link);
}

function setUpMyLevel() {
  for (const form of document.querySelectorAll(".my-level")) {
    const skill = form.closest("[data-skill]")?.dataset.skill;
    if (!skill) continue;
    form.hidden = false;
    form.querySelector("select").addEventListener("change", (event) => {
      setMyLevel(skill, event.target.value, "chosen");
    });
    form.addEventListener("submit", (event) => event.preventDefault());
  }
  markLevels();
}

// -- exercise catalog ---------------------------------------------------------------------------

// The level an item is filtered by: the one chosen, or with "mine", the member's level in the
// item's skill ("" when they have none there).
function wantedLevel(level, skill) {
  return level === "mine" ? myLevel(skill)?.level || "" : level;
}

function matches(item, { level, criterion, minutes }) {
  const wanted = wantedLevel(level, item.dataset.skill);
  if (level && !item.dataset.levels.split(" ").includes(wanted)) return false;
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

// The level filter names the member's levels: "Developing (you: Prepared talks)", and
// offers "My level in each skill" once they have one.
function markMyLevelsInFilter(select) {
  const skills = [...document.querySelectorAll(".catalog-skill[data-skill]")].map((section) => ({
    id: section.dataset.skill,
    title: section.querySelector("h2").textContent,
  }));
  let any = false;
  for (const option of select.options) {
    const mine = skills.filter((skill) => option.value && myLevel(skill.id)?.level === option.value);
    if (!mine.length) continue;
    any = true;
    option.text += skills.length > 1 ? ` (you: ${mine.map((skill) => skill.title).join(", ")})` : " (you)";
  }
  if (any) select.options.add(new Option("My level in each skill", "mine"), 1);
}

function setUpCatalogFilters() {
  const form = document.getElementById("catalog-filters");
  if (!form) return;
  const names = ["level", "criterion", "minutes"];
  const items = [...document.querySelectorAll(".catalog-skill li[data-levels]")];
  const total = new Set(items.map((item) => item.querySelector("a").href)).size;
  const count = form.querySelector(".filter-count");
  const params = new URLSearchParams(location.search);
  markMyLevelsInFilter(form.elements.level);
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
      const inLevel = !chosen.level || section?.dataset.levelId === wantedLevel(chosen.level, item.dataset.skill);
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

window.cophandbook = { SITE, LEVELS, store, longDate, download, myLevel, setMyLevel, markLevels };

setUpMenu();
setUpPrintButton();
setUpMyLevel();
setUpCatalogFilters();
