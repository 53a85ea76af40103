// "Where am I?": a member's self-assessment for one skill, kept in this browser, and the next
// steps it leads to. The page works as a printable sheet without this script.
//
// Answers are kept per criterion id with the level id chosen and the digest the criterion
// had then (its name, its levels and their descriptors), so when the rubric changes the
// page can say which answers may be out of date instead of dropping them. Nothing leaves
// the browser: a share link carries the answers in its fragment, which browsers never send.
"use strict";

(() => {
  const form = document.getElementById("assessment");
  const handbook = window.cophandbook;
  if (!form || !handbook) return;
  const { SITE, LEVELS, store, setMyLevel, myLevel } = handbook;
  const skill = form.dataset.skill;
  const KEY = `cophandbook:assessment:${SITE}:${skill}`;
  const FORMAT = "cophandbook-self-assessment";
  const status = document.getElementById("assess-status");
  const tools = document.getElementById("assess-tools");
  const stepsList = document.getElementById("next-steps-list");

  const questions = [...form.querySelectorAll("fieldset[data-criterion]")].map((fieldset) => ({
    id: fieldset.dataset.criterion,
    name: fieldset.dataset.name,
    digest: fieldset.dataset.digest,
    fieldset,
    inputs: [...fieldset.querySelectorAll("input[type=radio]")],
  }));
  const byId = new Map(questions.map((question) => [question.id, question]));

  // What the page shows: the member's own answers, or those of a share link (not saved
  // until the member says so).
  let shown = { rubric: form.dataset.digest, saved: "", answers: {} };
  let fromLink = false;

  const levelName = (id) => {
    const input = form.querySelector(`input[value="${CSS.escape(id)}"]`);
    return input ? input.closest("label").querySelector(".choice-level").textContent : id;
  };
  const longDate = (iso) => handbook.longDate(new Date(iso));

  function cleanAnswers(raw) {
    const answers = {};
    if (!raw || typeof raw !== "object") return answers;
    for (const [id, answer] of Object.entries(raw)) {
      if (answer && typeof answer.level === "string" && typeof answer.digest === "string") {
        answers[id] = {
          level: answer.level,
          digest: answer.digest,
          criterion: typeof answer.criterion === "string" ? answer.criterion : id,
          level_name: typeof answer.level_name === "string" ? answer.level_name : answer.level,
        };
      }
    }
    return answers;
  }

  function readKept() {
    const kept = store.json(KEY);
    if (!kept || typeof kept !== "object") return null;
    return { rubric: String(kept.rubric || ""), saved: String(kept.saved || ""), answers: cleanAnswers(kept.answers) };
  }

  function save() {
    shown.saved = new Date().toISOString();
    store.set(KEY, JSON.stringify({ version: 1, ...shown }));
    const level = derivedLevel(shown.answers);
    if (level) setMyLevel(skill, level, "assessment");
  }

  // The level the answers point to: the highest that more than half of them reach.
  function derivedLevel(answers) {
    const ranks = Object.values(answers).map((answer) => LEVELS.indexOf(answer.level)).filter((rank) => rank >= 0);
    if (!ranks.length) return "";
    ranks.sort((a, b) => a - b);
    return LEVELS[ranks[Math.floor((ranks.length - 1) / 2)]];
  }

  // -- share links: #answers=criterion:level:digest,… ------------------------------------------

  function linkFragment(answers) {
    const parts = Object.entries(answers).map(([id, answer]) => [id, answer.level, answer.digest].map(encodeURIComponent).join(":"));
    return `#answers=${parts.join(",")}`;
  }

  function answersFromLink() {
    const match = location.hash.match(/^#answers=(.*)$/);
    if (!match) return null;
    const answers = {};
    for (const part of match[1].split(",")) {
      const [id, level, digest] = part.split(":").map((text) => decodeURIComponent(text || ""));
      if (id && level) answers[id] = { level, digest: digest || "", criterion: byId.get(id)?.name || id, level_name: levelName(level) };
    }
    return answers;
  }

  // -- showing the answers ---------------------------------------------------------------

  function note(fieldset, className, text, action) {
    const paragraph = document.createElement("p");
    paragraph.className = `question-note ${className}`;
    paragraph.textContent = text;
    if (action) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = action.label;
      button.addEventListener("click", action.run);
      paragraph.append(" ", button);
    }
    fieldset.querySelector("legend").after(paragraph);
  }

  function showAnswers() {
    for (const old of form.querySelectorAll(".question-note")) old.remove();
    const answers = shown.answers;
    const changedRubric = Boolean(shown.saved) && shown.rubric !== form.dataset.digest;
    const since = shown.saved ? ` (${longDate(shown.saved)})` : "";
    let outdated = 0;
    for (const question of questions) {
      const answer = answers[question.id];
      question.fieldset.classList.remove("is-stale", "is-new");
      for (const input of question.inputs) input.checked = Boolean(answer) && input.value === answer.level;
      if (!answer) {
        if (changedRubric && Object.keys(answers).length) {
          question.fieldset.classList.add("is-new");
          note(question.fieldset, "note-new", "New since you answered: choose the description that fits.");
        }
        continue;
      }
      if (!question.inputs.some((input) => input.value === answer.level)) {
        outdated += 1;
        question.fieldset.classList.add("is-stale");
        note(question.fieldset, "note-stale", `You chose “${answer.level_name}”, a level the ladder no longer has: choose again.`);
      } else if (answer.digest !== question.digest) {
        outdated += 1;
        question.fieldset.classList.add("is-stale");
        note(question.fieldset, "note-stale", `This criterion has changed since you answered${since}: check your choice still fits.`, {
          label: "It still fits",
          run: () => choose(question, answer.level),
        });
      }
    }
    const gone = Object.entries(answers).filter(([id]) => !byId.has(id));
    showStatus(outdated, gone);
    tools.hidden = false;
    showNextSteps();
  }

  function showStatus(outdated, gone) {
    status.replaceChildren();
    const answered = Object.keys(shown.answers).filter((id) => byId.has(id)).length;
    const lines = [];
    if (fromLink) {
      lines.push(["These answers come from a link and are not saved in this browser.", { label: "Keep them as my answers", run: keepLinkAnswers }, readKept() ? { label: "Show my own answers", run: showOwnAnswers } : null]);
    } else if (answered) {
      lines.push([`${answered} of ${questions.length} criteria answered${shown.saved ? `, saved in this browser on ${longDate(shown.saved)}` : ""}.`]);
    }
    if (answered) lines.push([{ href: "#steps-heading", text: "See my next steps" }]);
    if (outdated) {
      lines.push([`${outdated === 1 ? "One answer" : `${outdated} answers`} may be out of date: the rubric changed since ${fromLink ? "the link was made" : "you answered"}. ${outdated === 1 ? "It is" : "They are"} marked below.`]);
    }
    if (gone.length) {
      const listed = gone.map(([, answer]) => `${answer.criterion} (${answer.level_name})`).join(", ");
      lines.push([`Kept, but no longer in the rubric: ${listed}.`, fromLink ? null : { label: "Forget these", run: forgetGone }]);
    }
    for (const [text, ...actions] of lines) {
      const paragraph = document.createElement("p");
      if (typeof text === "string") paragraph.textContent = text;
      else paragraph.append(Object.assign(document.createElement("a"), text));
      for (const action of actions.filter(Boolean)) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = action.label;
        button.addEventListener("click", action.run);
        paragraph.append(" ", button);
      }
      status.append(paragraph);
    }
  }

  function choose(question, level) {
    shown.answers[question.id] = { level, digest: question.digest, criterion: question.name, level_name: levelName(level) };
    if (!fromLink) {
      shown.rubric = form.dataset.digest;
      save();
    }
    showAnswers();
  }

  function forgetGone() {
    for (const id of Object.keys(shown.answers)) if (!byId.has(id)) delete shown.answers[id];
    save();
    showAnswers();
  }

  function keepLinkAnswers() {
    fromLink = false;
    history.replaceState(null, "", location.pathname + location.search);
    save();
    say("The answers from the link are now yours, saved in this browser.");
  }

  function showOwnAnswers() {
    fromLink = false;
    history.replaceState(null, "", location.pathname + location.search);
    shown = readKept() || { rubric: form.dataset.digest, saved: "", answers: {} };
    showAnswers();
  }

  function say(text) {
    showAnswers();
    const paragraph = document.createElement("p");
    paragraph.className = "status-message";
    paragraph.textContent = text;
    status.prepend(paragraph);
  }

  // -- next steps ------------------------------------------------------------------------

  let steps = null; // the skill's next-steps file, fetched once there is an answer

  function loadSteps() {
    steps ??= fetch(form.dataset.steps).then((response) => {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    }).catch((error) => {
      steps = null;
      throw error;
    });
    return steps;
  }

  // Markup the build itself wrote (passages and notes of the handbook's own exemplars),
  // parsed inert and moved in: no script in it could run.
  function fragment(html) {
    const parsed = new DOMParser().parseFromString(html, "text/html");
    const holder = document.createDocumentFragment();
    holder.append(...parsed.body.childNodes);
    return holder;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function stepCard(criterion, answer) {
    const question = byId.get(criterion.id);
    const mine = answer.level;
    const next = LEVELS[LEVELS.indexOf(mine) + 1];
    const card = element("article", "step");
    card.dataset.criterion = criterion.id;
    const heading = element("h3");
    const link = element("a", "", criterion.name);
    link.href = criterion.url;
    heading.append(link);
    card.append(heading);
    if (criterion.themes.length) {
      const why = element("p", "step-why", "The group keeps raising ");
      criterion.themes.forEach((theme, index) => {
        const themeLink = element("a", "", theme.name);
        themeLink.href = theme.url;
        why.append(index ? ", " : "", themeLink, ` (${theme.sessions} sessions)`);
      });
      why.append(".");
      card.append(why);
    }
    if (question.fieldset.classList.contains("is-stale")) {
      card.append(element("p", "question-note note-stale", "Your answer here may be out of date (see above)."));
    }
    const compare = element("div", "step-compare");
    for (const [label, level, isNext] of [[`You: ${levelName(mine)}`, mine, false], [`Next: ${levelName(next)}`, next, true]]) {
      const cell = element("div", `compare-cell${isNext ? " compare-next" : ""}`);
      cell.append(element("p", "compare-label", label));
      const text = element("p");
      const input = question.inputs.find((candidate) => candidate.value === level);
      const source = input?.closest("label").querySelector(".choice-text");
      if (source) text.append(...[...source.childNodes].map((node) => node.cloneNode(true)));
      cell.append(text);
      compare.append(cell);
    }
    card.append(compare);
    const passage = criterion.levels[next]?.passage;
    if (passage) {
      const figure = element("figure", "passage-quote");
      figure.append(element("p", "compare-label", `Real work at ${levelName(next)}`));
      const quote = element("blockquote");
      quote.append(fragment(passage.passage));
      const caption = element("figcaption");
      const noteBox = element("div", "note");
      noteBox.append(fragment(passage.note));
      const from = element("p", "meta", "From ");
      const source = element("a", "", passage.exemplar);
      source.href = passage.url;
      from.append(source);
      caption.append(noteBox, from);
      figure.append(quote, caption);
      card.append(figure);
    } else {
      card.append(element("p", "empty", `No passage of real work at ${levelName(next)} shows this yet.`));
    }
    const exercises = criterion.levels[mine]?.exercises || [];
    const practise = element("p", "practise");
    if (exercises.length) {
      practise.append(element("span", "practise-label", "Practise it:"), " ");
      exercises.forEach((exercise, index) => {
        const exerciseLink = element("a", "", exercise.title);
        exerciseLink.href = exercise.url;
        practise.append(index ? ", " : "", exerciseLink, exercise.duration ? ` (${exercise.duration})` : "");
      });
    } else {
      practise.append(`No exercise practises this at ${levelName(mine)} yet: see the `);
      const all = element("a", "", `exercises for ${criterion.name}`);
      all.href = `${criterion.url}#practise-heading`;
      practise.append(all, " at other levels.");
    }
    card.append(practise);
    return card;
  }

  async function showNextSteps() {
    const answered = Object.entries(shown.answers).filter(([id, answer]) => byId.has(id) && LEVELS.includes(answer.level));
    document.body.classList.toggle("has-answers", answered.length > 0);
    if (!answered.length) return;
    let data;
    try {
      data = await loadSteps();
    } catch {
      stepsList.replaceChildren(element("p", "empty", "Your next steps could not be loaded; reload the page to try again."));
      return;
    }
    const cards = [];
    const top = [];
    for (const criterion of data.criteria) {
      const answer = shown.answers[criterion.id];
      if (!answer || !byId.has(criterion.id) || !LEVELS.includes(answer.level)) continue;
      if (answer.level === LEVELS[LEVELS.length - 1]) top.push(criterion.name);
      else cards.push(stepCard(criterion, answer));
    }
    const unanswered = questions.length - answered.length;
    const summary = [];
    if (top.length) summary.push(`At the top of the ladder for ${top.join(", ")}: keep it up, and help others climb.`);
    if (unanswered) summary.push(`${unanswered === 1 ? "One criterion is" : `${unanswered} criteria are`} not answered yet.`);
    stepsList.replaceChildren(...cards, ...summary.map((text) => element("p", "step-more", text)));
  }

  // -- tools -----------------------------------------------------------------------------

  function exportAnswers() {
    const answers = {};
    for (const [id, answer] of Object.entries(shown.answers)) {
      const input = byId.get(id)?.inputs.find((candidate) => candidate.value === answer.level);
      const descriptor = input?.closest("label").querySelector(".choice-text").textContent.trim() || "";
      answers[id] = { ...answer, descriptor };
    }
    const file = {
      format: FORMAT, version: 1, handbook: document.title.split(" · ").pop(), site: SITE,
      skill, skill_title: form.dataset.skillTitle, rubric: shown.rubric,
      saved: shown.saved || new Date().toISOString(), answers,
    };
    handbook.download(`${skill}-self-assessment.json`, "application/json", `${JSON.stringify(file, null, 2)}\n`);
  }

  async function importAnswers(input) {
    const [file] = input.files;
    input.value = "";
    if (!file) return;
    let data;
    try {
      data = JSON.parse(await file.text());
    } catch {
      say(`${file.name} is not a file of answers saved from this handbook.`);
      return;
    }
    if (!data || data.format !== FORMAT) {
      say(`${file.name} is not a file of answers saved from this handbook.`);
      return;
    }
    if (data.skill !== skill) {
      say(`${file.name} holds answers for ${data.skill_title || data.skill}: import it on that skill's “Where am I?” page.`);
      return;
    }
    fromLink = false;
    shown = { rubric: String(data.rubric || ""), saved: "", answers: cleanAnswers(data.answers) };
    const saved = data.saved;
    store.set(KEY, JSON.stringify({ version: 1, ...shown, saved: String(saved || new Date().toISOString()) }));
    shown = readKept();
    const level = derivedLevel(shown.answers);
    if (level) setMyLevel(skill, level, "assessment");
    say(`Imported ${Object.keys(shown.answers).length} answers from ${file.name}.`);
  }

  async function share() {
    const url = location.origin + location.pathname + linkFragment(shown.answers);
    const box = tools.querySelector(".share-link");
    const field = box.querySelector("input");
    field.value = url;
    box.hidden = false;
    try {
      await navigator.clipboard.writeText(url);
      say("A link to these answers is copied. Whoever opens it sees them; nothing is stored anywhere else.");
    } catch {
      field.select();
      say("Copy the link below. Whoever opens it sees these answers; nothing is stored anywhere else.");
    }
  }

  function forget() {
    store.set(KEY, null);
    if (myLevel(skill)?.from === "assessment") setMyLevel(skill, "", "chosen");
    fromLink = false;
    history.replaceState(null, "", location.pathname + location.search);
    shown = { rubric: form.dataset.digest, saved: "", answers: {} };
    stepsList.replaceChildren(element("p", "empty", "Answer at least one criterion to see your next steps."));
    say("Your answers are forgotten: this browser keeps none.");
  }

  // -- start -----------------------------------------------------------------------------

  form.addEventListener("change", (event) => {
    const question = byId.get(event.target.name);
    if (question) choose(question, event.target.value);
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  tools.addEventListener("click", (event) => {
    const action = event.target.closest("button")?.dataset.action;
    if (action === "share") share();
    else if (action === "export") exportAnswers();
    else if (action === "print") window.print();
    else if (action === "forget") forget();
  });
  tools.querySelector("input[type=file]").addEventListener("change", (event) => importAnswers(event.target));
  window.addEventListener("hashchange", start);

  function start() {
    const linked = answersFromLink();
    fromLink = Boolean(linked);
    shown = linked ? { rubric: "", saved: "", answers: linked } : readKept() || { rubric: form.dataset.digest, saved: "", answers: {} };
    showAnswers();
  }
  start();
})();
