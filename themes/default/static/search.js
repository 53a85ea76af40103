// The search page: queries the Pagefind index of the site and lists results with their kind,
// skill and level. Text from the index is only ever set as text (excerpts keep their <mark>
// highlights and nothing else), so no page content can run here.
const form = document.getElementById("search-form");
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const FIELDS = ["kind", "skill", "level"];
const PAGE_SIZE = 20;
let loading = null; // the merged index once asked for: null if the site has nothing to find
let excluded = {};
let latest = 0;

// The index is in bundles (one on a small site; on a large one, each for some skills or
// years of sessions) that Pagefind merges as it searches; bundles.json lists them, and the
// filter that keeps their vocabulary records out of the results.
async function openIndex() {
  const root = new URL(form.dataset.index, location.href);
  const response = await fetch(new URL("bundles.json", root));
  if (!response.ok) throw new Error(`bundles.json: ${response.status}`);
  const manifest = await response.json();
  if (!manifest.bundles.length) return null;
  const [first, ...rest] = manifest.bundles.map((bundle) => new URL(bundle, root).pathname);
  const options = { baseUrl: form.dataset.base, excerptLength: 24 };
  const pagefind = await import(`${first}pagefind.js`);
  await pagefind.options(options);
  await Promise.all(rest.map((bundle) => pagefind.mergeIndex(bundle, options)));
  pagefind.init();
  excluded = manifest.exclude;
  return pagefind;
}

function loadIndex() {
  // Asked for once; a failure (the network, say) lets the next search try again.
  loading ??= openIndex().catch((error) => {
    loading = null;
    throw error;
  });
  return loading;
}

function state() {
  const query = form.elements.q.value.trim();
  const filters = {};
  for (const name of FIELDS) {
    const value = form.elements[name].value;
    if (value) filters[name] = value;
  }
  return { query, filters };
}

function remember({ query, filters }) {
  const params = new URLSearchParams();
  if (query) params.set("q", query);
  for (const [name, value] of Object.entries(filters)) params.set(name, value);
  const search = params.toString();
  history.replaceState(null, "", search ? `?${search}` : location.pathname);
}

function restore() {
  const params = new URLSearchParams(location.search);
  form.elements.q.value = params.get("q") || "";
  for (const name of FIELDS) {
    const value = params.get(name);
    const select = form.elements[name];
    if (value && [...select.options].some((option) => option.value === value)) {
      select.value = value;
    }
  }
}

// Copies an excerpt's text and its <mark> highlights, and nothing else. DOMParser makes an
// inert document: nothing in it loads or runs.
function excerptNodes(html) {
  const parsed = new DOMParser().parseFromString(`<p>${html}</p>`, "text/html");
  const out = document.createDocumentFragment();
  for (const node of parsed.body.firstChild.childNodes) {
    if (node.nodeName === "MARK") {
      const mark = document.createElement("mark");
      mark.textContent = node.textContent;
      out.append(mark);
    } else {
      out.append(document.createTextNode(node.textContent));
    }
  }
  return out;
}

function resultItem(data) {
  const item = document.createElement("li");
  item.className = "search-result";
  const link = document.createElement("a");
  link.href = data.url;
  link.textContent = data.meta.title || data.url;
  const meta = document.createElement("p");
  meta.className = "result-meta";
  meta.textContent = [data.meta.kind, data.meta.skill, data.meta.level].filter(Boolean).join(" · ");
  const excerpt = document.createElement("p");
  excerpt.className = "result-excerpt";
  excerpt.append(excerptNodes(data.excerpt || ""));
  item.append(link, meta, excerpt);
  return item;
}

function describe(count, { query, filters }) {
  const narrowed = Object.values(filters).join(", ");
  const what = count === 1 ? "1 result" : `${count} results`;
  const about = query ? ` for “${query}”` : "";
  return `${count ? what : "No results"}${about}${narrowed ? ` (${narrowed})` : ""}.`;
}

async function run() {
  const current = state();
  remember(current);
  const ticket = ++latest;
  if (!current.query && !Object.keys(current.filters).length) {
    list.replaceChildren();
    status.textContent = "";
    return;
  }
  status.textContent = "Searching…";
  let found;
  try {
    const index = await loadIndex();
    found = index
      ? await index.search(current.query || null,
        { filters: { ...current.filters, not: excluded } })
      : { results: [] };
  } catch (error) {
    if (ticket === latest) status.textContent = "The search index could not be loaded.";
    return;
  }
  if (ticket !== latest) return; // a newer search has started
  list.replaceChildren();
  await showMore(found.results, 0, ticket);
  // Announced once the results are on the page, so a screen reader can go straight to them.
  if (ticket === latest) status.textContent = describe(found.results.length, current);
}

async function showMore(results, from, ticket) {
  const batch = await Promise.all(results.slice(from, from + PAGE_SIZE).map((r) => r.data()));
  if (ticket !== latest) return;
  list.querySelector(".search-more")?.remove();
  for (const data of batch) list.append(resultItem(data));
  if (results.length > from + PAGE_SIZE) {
    const item = document.createElement("li");
    item.className = "search-more";
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `Show more results (${results.length - from - PAGE_SIZE} left)`;
    button.addEventListener("click", async () => {
      await showMore(results, from + PAGE_SIZE, ticket);
      list.children[from + PAGE_SIZE]?.querySelector("a")?.focus();
    });
    item.append(button);
    list.append(item);
  }
}

// Opening the index takes a phone seconds: it begins when someone is about to search (a
// failure is left for their search to report and try again).
form.addEventListener("focusin", () => loadIndex().catch(() => {}), { once: true });

let timer = 0;
form.addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(timer);
  run();
});
form.elements.q.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(run, 250);
});
for (const name of FIELDS) form.elements[name].addEventListener("change", run);

restore();
const headerBox = document.getElementById("site-search-q");
if (headerBox) headerBox.value = form.elements.q.value;
run();
