// "Practise judging": a member places a piece of work on the rubric, then compares with the
// handbook's placement; their placements, and how often they agree, stay in this browser.
// Without this script each page still reveals the handbook's placement in a <details>.
"use strict";

(() => {
  const handbook = window.cophandbook;
  const main = document.querySelector("main[data-skill]");
  if (!handbook || !main) return;
  const { SITE, LEVELS, store } = handbook;
  const skill = main.dataset.skill;
  const KEY = `cophandbook:calibration:${SITE}:${skill}`;

  function read() {
    const kept = store.json(KEY);
    return kept && kept.placements && typeof kept.placements === "object" ? kept : { version: 1, placements: {} };
  }

  const write = (kept) => store.set(KEY, JSON.stringify(kept));
  const name = (level) => {
    const option = document.querySelector(`.choices input[value="${CSS.escape(level)}"]`);
    return option ? option.closest("label").querySelector(".choice-level").textContent : level.replace(/-/g, " ").replace(/^./, (c) => c.toUpperCase());
  };
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const LEVEL_WORDS = ["", "one level", "two levels", "three levels", "four levels"];
  const levels = (n) => LEVEL_WORDS[n] || `${n} levels`;

  // Every placement of the pieces in `slugs`: [{slug, title, criterion, name, mine, theirs, diff}].
  function placements(kept, slugs) {
    const rows = [];
    for (const slug of slugs) {
      const entry = kept.placements[slug];
      if (!entry || !entry.criteria) continue;
      for (const [criterion, placed] of Object.entries(entry.criteria)) {
        const mine = LEVELS.indexOf(placed.mine);
        const theirs = LEVELS.indexOf(placed.handbook);
        if (mine < 0 || theirs < 0) continue;
        rows.push({
          slug, title: entry.title || slug, criterion, name: placed.name || criterion, diff: mine - theirs,
          mine: placed.mine_name || name(placed.mine), theirs: placed.handbook_name || name(placed.handbook),
        });
      }
    }
    return rows;
  }

  function agreement(rows) {
    const agreed = rows.filter((row) => row.diff === 0).length;
    const pieces = new Set(rows.map((row) => row.slug)).size;
    return `${agreed} of ${plural(rows.length, "placement")} agreed, over ${plural(pieces, "piece")} of work.`;
  }

  // Where a member places work high or low on a criterion, on average over two pieces or
  // more: the thing to talk about in a moderation meeting.
  function leanings(rows) {
    const byCriterion = new Map();
    for (const row of rows) {
      if (!byCriterion.has(row.criterion)) byCriterion.set(row.criterion, { name: row.name, diffs: [] });
      byCriterion.get(row.criterion).diffs.push(row.diff);
    }
    const found = [];
    for (const { name: criterion, diffs } of byCriterion.values()) {
      if (diffs.length < 2) continue;
      const mean = diffs.reduce((sum, diff) => sum + diff, 0) / diffs.length;
      const size = Math.round(Math.abs(mean));
      if (size >= 1) found.push(`On ${criterion} you place ${levels(size)} ${mean > 0 ? "high" : "low"} (over ${plural(diffs.length, "piece")}).`);
    }
    return found;
  }

  const verdict = (diff) => (diff === 0 ? "Agreed." : `You placed it ${levels(Math.abs(diff))} ${diff > 0 ? "higher" : "lower"}.`);

  function paragraph(className, text) {
    const node = document.createElement("p");
    node.className = className;
    node.textContent = text;
    return node;
  }

  // -- a piece of work -------------------------------------------------------------------

  function setUpItem(form) {
    const slug = form.dataset.slug;
    const set = form.dataset.set.split(" ").filter(Boolean);
    const reveal = document.getElementById("reveal");
    const progress = document.getElementById("calibration-progress");
    const fieldsets = [...form.querySelectorAll("fieldset[data-criterion]")];

    function chosen() {
      const criteria = {};
      for (const fieldset of fieldsets) {
        const input = fieldset.querySelector("input:checked");
        const row = reveal.querySelector(`.reveal-row[data-criterion="${CSS.escape(fieldset.dataset.criterion)}"]`);
        if (input && row) {
          criteria[fieldset.dataset.criterion] = {
            name: fieldset.dataset.name, mine: input.value, handbook: row.dataset.level,
            mine_name: name(input.value), handbook_name: name(row.dataset.level),
          };
        }
      }
      return criteria;
    }

    function showComparison(entry) {
      for (const row of reveal.querySelectorAll(".reveal-row")) {
        const placed = entry?.criteria?.[row.dataset.criterion];
        const yours = row.querySelector(".yours");
        const said = row.querySelector(".verdict");
        yours.hidden = !placed;
        said.hidden = !placed;
        if (!placed) continue;
        yours.querySelector(".compare-label").textContent = `You: ${name(placed.mine)}`;
        const source = form.querySelector(`fieldset[data-criterion="${CSS.escape(row.dataset.criterion)}"] input[value="${CSS.escape(placed.mine)}"]`);
        const text = yours.querySelector(".reveal-descriptor");
        text.replaceChildren(...[...(source?.closest("label").querySelector(".choice-text").childNodes || [])].map((node) => node.cloneNode(true)));
        const diff = LEVELS.indexOf(placed.mine) - LEVELS.indexOf(row.dataset.level);
        said.textContent = verdict(diff);
        said.className = `verdict ${diff === 0 ? "verdict-agreed" : "verdict-apart"}`;
      }
    }

    function showProgress() {
      const rows = placements(read(), set);
      progress.replaceChildren();
      if (!rows.length) return;
      progress.append(`So far: ${agreement(rows)} `);
      const link = document.createElement("a");
      link.href = document.querySelector(".pager a:not([rel])").href;
      link.textContent = "See your summary";
      progress.append(link, ".");
    }

    const entry = read().placements[slug];
    if (entry?.criteria) {
      for (const [criterion, placed] of Object.entries(entry.criteria)) {
        const input = form.querySelector(`fieldset[data-criterion="${CSS.escape(criterion)}"] input[value="${CSS.escape(placed.mine)}"]`);
        if (input) input.checked = true;
      }
      showComparison(entry);
      reveal.open = true; // placed before: the comparison is what the member came back to
    }
    showProgress();

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const criteria = chosen();
      form.querySelector(".placing-hint")?.remove();
      if (!Object.keys(criteria).length) {
        form.querySelector("button[type=submit]").before(paragraph("placing-hint", "Choose a description for at least one criterion first."));
        return;
      }
      const kept = read();
      kept.placements[slug] = { title: form.dataset.title, at: new Date().toISOString(), criteria };
      write(kept);
      showComparison(kept.placements[slug]);
      reveal.open = true;
      reveal.querySelector("summary").focus();
      showProgress();
    });
  }

  // -- the skill's page: every piece, and the summary -------------------------------------

  function setUpSummary(list) {
    const items = [...list.querySelectorAll("li[data-slug]")];
    const slugs = items.map((item) => item.dataset.slug);
    const summary = document.getElementById("calibration-summary");
    const start = document.getElementById("calibration-start");

    function show() {
      const kept = read();
      for (const item of items) {
        const rows = placements(kept, [item.dataset.slug]);
        const agreed = rows.filter((row) => row.diff === 0).length;
        item.querySelector(".calibration-status").textContent = rows.length ? `Placed: ${agreed} of ${rows.length} agreed` : "Not placed yet";
        item.classList.toggle("is-placed", rows.length > 0);
      }
      const next = items.find((item) => !kept.placements[item.dataset.slug]);
      if (next) {
        start.href = next.querySelector("a").href;
        start.textContent = next === items[0] ? "Start with the first" : "Go on with the next";
      }
      start.hidden = !next;
      const rows = placements(kept, slugs);
      summary.hidden = !rows.length;
      if (!rows.length) return;
      summary.querySelector(".agreement").textContent = agreement(rows);
      const found = leanings(rows);
      summary.querySelector(".leanings").replaceChildren(...(found.length ? found : ["No criterion where you place work consistently high or low."]).map((text) => {
        const item = document.createElement("li");
        item.textContent = text;
        return item;
      }));
      summary.querySelector("tbody").replaceChildren(...rows.map((row) => {
        const tr = document.createElement("tr");
        for (const text of [row.title, row.name, row.mine, `${row.theirs}${row.diff ? "" : " (agreed)"}`]) {
          const cell = document.createElement("td");
          cell.textContent = text;
          tr.append(cell);
        }
        return tr;
      }));
    }

    function text() {
      const rows = placements(read(), slugs);
      const heading = document.querySelector("h1").textContent;
      const title = document.querySelector(".kicker").textContent;
      const lines = [`${title.replace(/ · .*/, "")}: ${heading.toLowerCase()}`, `${document.title.split(" · ").pop()}, ${handbook.longDate(new Date())}`, "", agreement(rows), ...leanings(rows), ""];
      for (const slug of new Set(rows.map((row) => row.slug))) {
        const own = rows.filter((row) => row.slug === slug);
        lines.push(own[0].title);
        for (const row of own) lines.push(`  ${row.name}: you ${row.mine}, the handbook ${row.theirs}${row.diff ? "" : " (agreed)"}`);
        lines.push("");
      }
      return lines.join("\n");
    }

    summary.addEventListener("click", (event) => {
      const action = event.target.closest("button")?.dataset.action;
      if (action === "print") window.print();
      else if (action === "download") handbook.download(`${skill}-practise-judging.txt`, "text/plain", text());
      else if (action === "forget") {
        store.set(KEY, null);
        show();
        start.focus();
      }
    });
    show();
  }

  const form = document.getElementById("placing");
  if (form) setUpItem(form);
  const list = document.getElementById("calibration-list");
  if (list) setUpSummary(list);
})();
