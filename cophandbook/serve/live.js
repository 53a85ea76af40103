// cophandbook preview: reload when a new build is published, and show the last build's
// problems over the page. Added to HTML responses by `cophandbook serve` only.
(() => {
  "use strict";
  const me = document.currentScript;
  const build = me.dataset.build;
  const data = document.getElementById("cophandbook-problems");
  const problems = data ? JSON.parse(data.textContent) : [];

  function element(tag, text, style) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;  // text only: messages quote content
    if (style) node.setAttribute("style", style);
    return node;
  }

  function place(problem) {
    let where = problem.path || "";
    if (problem.line) where += ":" + problem.line;
    if (problem.line && problem.column) where += ":" + problem.column;
    return where;
  }

  function showOverlay() {
    const errors = problems.filter((p) => p.severity === "error").length;
    const box = element("section", undefined,
      "position:fixed;inset:auto 0 0 0;z-index:2147483647;max-height:60vh;overflow:auto;" +
      "margin:0;padding:1rem 1.25rem;background:#2b0d0d;color:#fff;font:14px/1.5 system-ui," +
      "sans-serif;border-top:4px solid #ff6b6b;box-shadow:0 -4px 16px rgba(0,0,0,.35)");
    box.id = "cophandbook-overlay";
    box.setAttribute("role", "alert");
    box.setAttribute("aria-label", "Build problems");
    const title = `The last change did not build (${errors} error${errors === 1 ? "" : "s"}). ` +
      "This is the last good build; it reloads when the problems are fixed.";
    box.append(element("p", title, "margin:0 0 .5rem;font-weight:700"));
    const list = element("ul", undefined, "margin:0;padding:0;list-style:none");
    for (const problem of problems) {
      const item = element("li", undefined, "margin:.4rem 0");
      item.append(element("code", place(problem), "color:#ffd27f;background:none;border:0;" +
        "padding:0;font:600 13px/1.5 ui-monospace,monospace"));
      item.append(element("span", ` ${problem.severity}: ${problem.message} [${problem.code}]`));
      if (problem.hint) item.append(element("div", "hint: " + problem.hint, "color:#ddd;margin-left:1.5rem"));
      list.append(item);
    }
    box.append(list);
    const close = element("button", "Hide", "margin-top:.5rem;font:inherit;padding:.2rem .8rem");
    close.type = "button";
    close.addEventListener("click", () => box.remove());
    box.append(close);
    document.body.append(box);
  }

  if (problems.some((p) => p.severity === "error")) showOverlay();

  const events = new EventSource(me.dataset.events + "?build=" + encodeURIComponent(build));
  events.addEventListener("build", (event) => {
    if (event.data !== build) {
      events.close();
      location.reload();
    }
  });
})();
