"use strict";
// The explorer's behaviour: one view (a module's inside) at a time, chosen by the URL's hash so
// the browser's Back returns; details on hover; search; stepping in backward's order.
(() => {
  const scene = JSON.parse(document.getElementById("scene").textContent);
  const canvas = document.getElementById("canvas");
  const details = document.getElementById("details");
  const crumbs = document.getElementById("breadcrumbs");
  const search = document.getElementById("search");
  const results = document.getElementById("search-results");
  const stepButton = document.getElementById("step");
  const previousButton = document.getElementById("step-previous");
  const status = document.getElementById("step-status");
  const hint = details.innerHTML;
  const LABELS = {values: "values", gradient: "gradient arriving", saved_bytes: "saved for backward",
                  site: "created at", backward_step: "backward step", gradient_norm: "gradient norm",
                  read_by: "read by", produced_by: "produced by"};
  let current = null;   // the path of the view shown ("" is the whole graph)
  let selected = null;  // the id of the node whose details stay in the panel
  let step = -1;        // the current place in scene.order

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function number(x) {
    if (typeof x !== "number") return String(x);
    return Number.isInteger(x) && Math.abs(x) < 1e9 ? x.toLocaleString("en") : x.toPrecision(4);
  }

  function bytes(n) {
    const units = ["bytes", "KB", "MB", "GB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return i ? `${n.toFixed(1)} ${units[i]}` : `${n} bytes`;
  }

  const isStats = (v) => v !== null && typeof v === "object" && "mean" in v && "std" in v;
  const percent = (x) => typeof x === "number" ? `${(100 * x).toFixed(1)}%` : String(x);

  function statsRows(s) {
    const rows = [["min", number(s.min)], ["mean", number(s.mean)], ["max", number(s.max)],
                  ["std", number(s.std)], ["zeros", percent(s.zeros)], ["norm", number(s.norm)]];
    if (s.nonfinite) rows.push(["inf or NaN", percent(s.nonfinite)]);
    return rows;
  }

  function table(rows) {
    const t = element("table");
    for (const [key, value] of rows) {
      const row = t.insertRow();
      row.insertCell().textContent = key;
      row.insertCell().textContent = value;
    }
    return t;
  }

  // An output or a weight: its plain fields, then the statistics of its values and gradient.
  function part(title, entry, sections) {
    const plain = Object.entries(entry).filter(([, v]) => v !== null && !isStats(v));
    sections.push([title, plain.map(([k, v]) => [LABELS[k] || k, v])]);
    for (const [k, v] of Object.entries(entry)) {
      if (isStats(v)) sections.push([`${title}: ${LABELS[k] || k}`, statsRows(v)]);
    }
  }

  function describe(path, id) {
    const view = scene.views[path];
    const item = id && view ? view.items[id] : null;
    if (!item) { details.innerHTML = hint; return; }
    const d = item.details;
    const rows = [], sections = [];
    for (const [key, value] of Object.entries(d)) {
      if (value === null || value === undefined || key === "primitive" || key === "type") continue;
      if (isStats(value)) sections.push([LABELS[key] || key, statsRows(value)]);
      else if (Array.isArray(value)) {
        if (value.every((v) => typeof v !== "object")) rows.push([key, value.join(", ")]);
        else value.forEach((v, i) => part(key === "outputs" ? `output ${i}` : `${key} ${i}`, v, sections));
      } else if (typeof value === "object") {
        if (key === "settings") {
          if (Object.keys(value).length) sections.push(["settings", Object.entries(value)]);
        } else for (const [name, v] of Object.entries(value)) part(name, v, sections);
      } else rows.push([LABELS[key] || key, key === "saved_bytes" ? bytes(value) : number(value)]);
    }
    const heading = d.primitive || d.type || d.name || d.kind;
    const children = [element("h2", heading), table(rows)];
    for (const [title, sectionRows] of sections) children.push(element("h3", title), table(sectionRows));
    if (item.kind === "module") children.push(element("p", "Click to open this module.", "hint"));
    if (item.kind === "boundary" && item.goto) children.push(element("p", "Click to go to where it comes from.", "hint"));
    details.replaceChildren(...children);
  }

  function renderCrumbs(path) {
    const chain = [];
    for (let p = path; p !== null && p !== undefined; p = scene.views[p].parent) chain.unshift(p);
    crumbs.replaceChildren();
    chain.forEach((p, i) => {
      if (i) crumbs.append(element("span", "›", "separator"));
      const parent = i ? chain[i - 1] : "";
      const name = p === "" ? scene.title : parent && p.startsWith(`${parent}.`) ? p.slice(parent.length + 1) : p;
      if (i === chain.length - 1) { crumbs.append(element("span", name, "here")); return; }
      const link = element("a", name);
      link.href = `#${p}`;
      crumbs.append(link);
    });
  }

  function decorate() {
    const view = scene.views[current];
    const done = new Set(scene.order.slice(0, step + 1).map((s) => s.id));
    const now = step >= 0 ? scene.order[step].id : null;
    const within = step >= 0 ? scene.order[step].within : [];  // the module nodes around it
    for (const g of canvas.querySelectorAll("g.node")) {
      g.classList.toggle("current", g.id === now || within.includes(g.id));
      g.classList.toggle("selected", g.id === selected && g.id !== now);
    }
    for (const g of canvas.querySelectorAll("g.edge")) {
      const edge = view.edges[g.id];
      const arrived = Boolean(edge && edge.producer && done.has(edge.producer));
      g.classList.toggle("gradient", arrived);
      g.classList.toggle("arrived", arrived && edge.producer === now);
      let label = g.querySelector("text.gradient-label");
      const text = g.querySelector("text");
      if (arrived && edge.gradient && !label && text) {
        label = text.cloneNode();
        label.classList.add("gradient-label");
        label.setAttribute("y", String(Number(text.getAttribute("y")) + 11));
        label.textContent = edge.gradient;
        g.appendChild(label);
      } else if (!arrived && label) label.remove();
    }
  }

  function show(path) {
    if (!(path in scene.views)) path = "";
    if (path !== current) {
      current = path;
      canvas.innerHTML = scene.views[path].svg;
      for (const g of canvas.querySelectorAll("g.node")) {
        g.addEventListener("mouseenter", () => describe(path, g.id));
        g.addEventListener("mouseleave", () => describe(current, selected));
        g.addEventListener("click", () => activate(path, g.id));
      }
      renderCrumbs(path);
      describe(path, selected);
    }
    decorate();
  }

  function open(path) {
    if (path !== current) location.hash = `#${path}`;  // a history entry: Back returns
    show(path);
  }

  function focus(id) {
    const node = canvas.querySelector(`#${CSS.escape(id)}`);
    if (node) node.scrollIntoView({block: "center", inline: "center"});
  }

  function reveal(id, path) {
    selected = id;
    open(path);
    describe(path, id);
    decorate();
    focus(id);
  }

  function activate(path, id) {
    const item = scene.views[path].items[id];
    if (!item) return;
    if (item.kind === "module") { open(item.opens); return; }
    if (item.kind === "boundary" && item.goto) {
      const home = scene.search.find((entry) => entry.id === item.goto);
      if (home) { reveal(item.goto, home.view); return; }
    }
    selected = id;
    describe(path, id);
    decorate();
  }

  function goStep(to) {
    if (to < -1 || to >= scene.order.length) return;
    step = to;
    previousButton.disabled = step < 0;
    stepButton.disabled = step >= scene.order.length - 1;
    if (step < 0) { status.textContent = ""; decorate(); return; }
    const {id, view} = scene.order[step];
    if (view !== current) { history.replaceState(null, "", `#${view}`); show(view); }  // the module opens by itself
    selected = id;
    describe(view, id);
    decorate();
    focus(id);
    const d = scene.views[view].items[id].details;
    status.textContent = `backward step ${step + 1} of ${scene.order.length}: ${d.primitive}` +
      (d.module ? ` in ${d.module}` : "");
  }

  function findNodes() {
    const query = search.value.trim().toLowerCase();
    results.replaceChildren();
    const hits = query ? scene.search.filter((entry) => entry.text.toLowerCase().includes(query) ||
                                                        entry.path.toLowerCase().includes(query)) : [];
    const rank = (entry) => 2 * Number(entry.path.toLowerCase() === query) + Number(entry.kind === "module");
    hits.sort((a, b) => rank(b) - rank(a));  // the module itself first
    hits.splice(50);
    for (const hit of hits) {
      const row = element("li", hit.text);
      row.append(element("span", hit.view || scene.title, "where"));
      row.addEventListener("click", () => { results.hidden = true; reveal(hit.id, hit.view); });
      results.append(row);
    }
    results.hidden = hits.length === 0;
  }

  search.addEventListener("input", findNodes);
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && results.firstChild) results.firstChild.click();
    if (event.key === "Escape") results.hidden = true;
  });
  stepButton.addEventListener("click", () => goStep(step + 1));
  previousButton.addEventListener("click", () => goStep(step - 1));
  document.addEventListener("keydown", (event) => {
    if (event.target === search) return;
    if (event.key === "ArrowRight") { goStep(step + 1); event.preventDefault(); }
    if (event.key === "ArrowLeft") { goStep(step - 1); event.preventDefault(); }
  });
  window.addEventListener("hashchange", () => show(decodeURIComponent(location.hash.slice(1))));
  if (!scene.order.length) {
    stepButton.disabled = true;
    status.textContent = scene.kind === "onnx" ? "an ONNX file records no backward to step through"
                                               : "nothing in this graph needs a gradient";
  }
  previousButton.disabled = true;
  show(decodeURIComponent(location.hash.slice(1)));
})();
