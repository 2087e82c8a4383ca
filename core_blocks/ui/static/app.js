// The blocks page: a hash-routed view over /api/. No framework and no innerHTML: every value
// from the server reaches the page as text, so a block's field can never become markup.
"use strict";

const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const main = document.getElementById("main");
const STATES = ["Pending", "Running", "Completed", "Failed", "Retrying", "TimedOut",
  "Cancelled", "Crashed"];

// -- helpers ---------------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "value") el.value = value;
    else if (key === "checked") el.checked = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// -- JSON without losing numbers -------------------------------------------------------------
// A JavaScript number holds integers exactly only up to 2^53 (a Slack channel id may be
// larger) and reads 1e999 as Infinity, which JSON.stringify sends as null. Such numbers are
// kept as their JSON text, shown as typed and sent back unchanged; the server judges them.

class ExactNumber {
  constructor(text) { this.text = text; }
  toString() { return this.text; }
}

const EXACT = "\u0000exact-number:";  // a control character: never raw in valid JSON text
const TOKENS = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

function fitsANumber(text) {
  const n = Number(text);
  return Number.isFinite(n) && (!/^-?\d+$/.test(text) || Number.isSafeInteger(n));
}

function parseJSON(text) {
  const plain = JSON.parse(text);  // invalid JSON: its own error, positions as typed
  if (/\\u0000exact-number:/i.test(text)) return plain;  // a text holding the marker itself
  const marked = text.replace(TOKENS, (token) => (token[0] === '"' || fitsANumber(token)
    ? token : JSON.stringify(EXACT + token)));
  return JSON.parse(marked, (key, value) => (typeof value === "string" && value.startsWith(EXACT)
    ? new ExactNumber(value.slice(EXACT.length)) : value));
}

function toJSON(value, indent) {
  const text = JSON.stringify(value, (key, v) => (v instanceof ExactNumber ? EXACT + v.text : v),
    indent);
  return text.replace(/"\\u0000exact-number:([^"]*)"/g, "$1");
}

async function api(method, path, body) {
  const options = { method, headers: { "X-CSRF-Token": CSRF }, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = toJSON(body);
  }
  const response = await fetch(path, options);
  let data = null;
  try { data = parseJSON(await response.text()); } catch (e) { data = { error: response.statusText }; }
  return { ok: response.ok, status: response.status, data };
}

async function get(path) {
  const result = await api("GET", path);
  if (!result.ok) throw new Error(result.data.error);
  return result.data;
}

const enc = encodeURIComponent;
const blockHref = (ref) => "#/block/" + ref.split("/").map(enc).join("/");
const runHref = (id) => "#/run/" + enc(id);
const pad = (n) => String(n).padStart(2, "0");

function when(value) {
  if (value === null || value === undefined || value === "") return "";
  const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const seconds = (v) => (v === null || v === undefined ? "" : `${v.toFixed(3)} s`);
const badge = (state) => h("span", { class: `badge state-${String(state).toLowerCase()}` }, state);
const errorBox = (message) => h("p", { class: "error", role: "alert" }, message);
const table = (head, rows, empty) => rows.length
  ? h("div", { class: "scroll" }, h("table", {},
    h("thead", {}, h("tr", {}, head.map((c) => h("th", {}, c)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c)))))))
  : h("p", { class: "muted" }, empty);

function render(...nodes) {
  main.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined));
}

// A page's renderer, for the address it was opened at: a slow page (blocks still loading when
// the user moves on) never replaces the page opened after it.
function view() {
  const at = location.hash;
  return (...nodes) => { if (location.hash === at) render(...nodes); };
}

const facts = (rows) => h("div", { class: "scroll" }, h("table", { class: "facts" },
  h("tbody", {}, rows.map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, v))))));

function query(hash) {
  const at = hash.indexOf("?");
  return new URLSearchParams(at < 0 ? "" : hash.slice(at + 1));
}

// -- block types -----------------------------------------------------------------------------

async function typesPage() {
  const show = view();
  const data = await get("/api/types");
  const errors = Object.values(data.plugin_errors).map((m) => h("p", { class: "warning" }, m));
  const cards = data.types.map((t) => h("section", { class: "card" },
    h("h2", {}, t.name, " ", h("code", {}, t.slug)),
    h("p", {}, t.description || h("span", { class: "muted" }, "No description.")),
    h("dl", {},
      h("dt", {}, "Fields"), h("dd", {}, t.fields.map((f) => h("code", {}, f)).flatMap(
        (c, i) => (i ? [", ", c] : [c]))),
      h("dt", {}, "Capabilities"), h("dd", {}, t.capabilities.join(", ") || "none"),
      h("dt", {}, "From"), h("dd", {}, t.source)),
    t.plugin ? h("a", { class: "button", href: `#/new/${enc(t.slug)}` }, "Create") : null));
  show(h("h1", {}, "Block types"), errors, h("div", { class: "cards" }, cards));
}

// -- blocks ----------------------------------------------------------------------------------

async function blocksPage(params) {
  const show = view();
  const type = params.get("type") || "";
  const search = params.get("q") || "";
  const [types, blocks] = await Promise.all([get("/api/types"),
    get(`/api/blocks?type=${enc(type)}&q=${enc(search)}`)]);
  const go = () => {
    location.hash = `#/blocks?type=${enc(typeSelect.value)}&q=${enc(searchInput.value)}`;
  };
  const typeSelect = h("select", { id: "filter-type", "aria-label": "Block type", onchange: go },
    h("option", { value: "" }, "All types"),
    types.types.map((t) => h("option", { value: t.slug }, t.slug)));
  typeSelect.value = type;
  const searchInput = h("input", { id: "search", type: "search", placeholder: "Search by name",
    "aria-label": "Search by name", value: search, onchange: go });
  const newSelect = h("select", { id: "new-type", "aria-label": "Type of the new block" },
    types.types.filter((t) => t.plugin).map((t) => h("option", { value: t.slug }, t.slug)));
  const rows = blocks.map((b) => [h("a", { href: blockHref(`${b.type}/${b.name}`) }, b.name),
    h("code", {}, b.type), when(b.updated), b.version]);
  show(h("h1", {}, "Blocks"),
    h("div", { class: "toolbar" }, typeSelect, searchInput,
      h("span", { class: "spacer" }),
      newSelect, h("button", { id: "new-block", onclick: () => {
        location.hash = `#/new/${enc(newSelect.value)}`;
      } }, "New block")),
    table(["name", "type", "last saved", "version"], rows,
      type || search ? "No saved blocks match." : "No blocks saved yet. Create one with New block."));
}

function fieldValue(value, secretSet) {
  if (value === "********") return h("span", { class: "secret" }, "******** (set)");
  if (secretSet === false) return h("span", { class: "muted" }, "not set");
  if (value && typeof value === "object" && value.ref) {
    return h("a", { href: blockHref(value.ref) }, value.ref);
  }
  if (value === null) return h("span", { class: "muted" }, "null");
  if (value instanceof ExactNumber) return String(value);
  if (typeof value === "object") return h("pre", {}, toJSON(value, 2));
  return String(value);
}

async function blockPage(slug, name) {
  const show = view();
  const b = await get(`/api/blocks/${enc(slug)}/${enc(name)}`);
  const ref = `${slug}/${name}`;
  const message = h("div", {});
  const remove = async () => {
    if (!confirm(`Delete ${ref}? Its secrets are deleted too.`)) return;
    const result = await api("DELETE", `/api/blocks/${enc(slug)}/${enc(name)}`);
    if (result.ok) location.hash = "#/blocks";
    else message.replaceChildren(errorBox(result.data.error));
  };
  const rows = Object.entries(b.fields).map(([f, v]) => [h("code", {}, f),
    fieldValue(v, f in b.secrets_set ? b.secrets_set[f] : undefined)]);
  show(h("h1", {}, ref),
    h("p", { class: "meta" }, `Last saved ${when(b.updated)} · version ${b.version} · id ${b.id}`),
    message,
    h("div", { class: "toolbar" },
      h("a", { class: "button", id: "edit", href: `#/edit/${enc(slug)}/${enc(name)}` }, "Edit"),
      h("button", { class: "danger", id: "delete", onclick: remove }, "Delete")),
    h("h2", {}, "Fields"), table(["field", "value"], rows, "No fields."),
    h("h2", {}, "References"),
    b.references.length ? h("ul", {}, b.references.map((r) => h("li", {},
      h("a", { href: blockHref(r) }, r)))) : h("p", { class: "muted" }, "It references no saved block."),
    h("h2", {}, "Referenced by"),
    b.referenced_by.length ? h("ul", { id: "referenced-by" }, b.referenced_by.map((r) => h("li", {},
      h("a", { href: blockHref(r.block) }, r.block), ` (field ${r.field})`)))
      : h("p", { class: "muted" }, "No block references it."));
}

// -- create and edit: a form built from the type's JSON schema -----------------------------

function fieldSpec(schema, name, prop) {
  const defs = schema.$defs || {};
  const deref = (v) => (v.$ref ? defs[v.$ref.split("/").pop()] || {} : v);
  let variants = prop.anyOf || prop.oneOf || [prop];
  const withoutNull = variants.filter((v) => v.type !== "null");
  const nullable = withoutNull.length < variants.length;
  variants = withoutNull.map(deref);
  const required = (schema.required || []).includes(name);
  const title = prop.title || name.charAt(0).toUpperCase() + name.slice(1).replace(/_/g, " ");
  const base = { name, nullable, required, title,
    description: prop.description || "", default: prop.default };
  if (variants.length && variants.every((v) => v.block_type_slug)) {
    return { ...base, kind: "block", slugs: variants.map((v) => v.block_type_slug) };
  }
  const one = variants.length === 1 ? variants[0] : {};
  if ((schema.secret_fields || []).includes(name)) {
    return { ...base, kind: one.type === "object" ? "secret-json" : "secret" };
  }
  if (one.enum) return { ...base, kind: "enum", options: one.enum };
  if (one.type === "boolean") return { ...base, kind: nullable ? "tristate" : "boolean" };
  if (one.type === "integer" || one.type === "number") return { ...base, kind: "number",
    integer: one.type === "integer" };
  if (one.type === "string") return { ...base, kind: "text" };
  return { ...base, kind: "json", allowsString: variants.some((v) => v.type === "string") };
}

function parseJson(spec, text) {
  try {
    return { value: parseJSON(text) };
  } catch (e) {
    if (spec.allowsString) return { value: text };
    return { error: `Not valid JSON: ${e.message}. Write it as JSON (text in double quotes).` };
  }
}

async function blockChoices(slugs) {
  const lists = await Promise.all(slugs.map((s) => get(`/api/blocks?type=${enc(s)}`)));
  return lists.flat().map((b) => `${b.type}/${b.name}`);
}

function inputFor(spec, current, choices, editing) {
  const id = `f-${spec.name}`;
  const common = { id, name: spec.name,
    "aria-describedby": `help-${spec.name} hint-${spec.name} err-${spec.name}` };
  const has = current !== undefined;
  switch (spec.kind) {
    case "block": {
      const select = h("select", common,
        !spec.required || spec.nullable ? h("option", { value: "" }, "(none)")
          : !choices.length && !has ? h("option", { value: "" }, "(none saved yet)") : null,
        has && current && current.type ? h("option", { value: "$keep" }, `keep the inline ${current.type} block`) : null,
        choices.map((c) => h("option", { value: c }, c)));
      if (has && current && current.ref) select.value = current.ref;
      else if (has && current && current.type) select.value = "$keep";
      else if (!editing && spec.required && choices.length) select.value = choices[0];
      else select.value = "";
      return select;
    }
    case "secret":
      return h("input", { ...common, type: "password", autocomplete: "new-password",
        placeholder: editing ? (current === "********" ? "set: leave blank to keep" : "not set")
          : "" });
    case "secret-json":
      return h("textarea", { ...common, rows: 3, spellcheck: "false",
        placeholder: editing ? (current === "********" ? "set: leave blank to keep" : "not set")
          : "JSON object, e.g. {\"Authorization\": \"Bearer …\"}" });
    case "enum": {
      const select = h("select", common,
        spec.nullable || (!spec.required && spec.default === undefined)
          ? h("option", { value: "" }, "(none)") : null,
        spec.options.map((o) => h("option", { value: JSON.stringify(o) }, String(o))));
      const value = has ? current : spec.default;
      select.value = value === undefined || value === null ? "" : JSON.stringify(value);
      return select;
    }
    case "boolean":
      return h("input", { ...common, type: "checkbox",
        checked: Boolean(has ? current : spec.default) });
    case "tristate": {
      const select = h("select", common, h("option", { value: "" }, "(not set)"),
        h("option", { value: "true" }, "true"), h("option", { value: "false" }, "false"));
      const value = has ? current : spec.default;
      select.value = value === null || value === undefined ? "" : String(value);
      return select;
    }
    case "number":
      return h("input", { ...common, type: "number", step: spec.integer ? "1" : "any",
        value: has && current !== null ? current
          : (!has && spec.default !== undefined && spec.default !== null ? spec.default : "") });
    case "text": {
      const value = has ? current : spec.default;
      return h("input", { ...common, type: "text", value: value === null || value === undefined
        ? "" : value });
    }
    default: {
      const value = has ? current : spec.default;
      const text = value === undefined || value === null ? ""
        : typeof value === "string" && spec.allowsString ? value : toJSON(value, 2);
      const area = h("textarea", { ...common, rows: 3, spellcheck: "false", value: text });
      area.addEventListener("input", () => {  // JSON checked as you type
        const out = area.value.trim() ? parseJson(spec, area.value) : {};
        setFieldError(spec.name, out.error || "");
      });
      return area;
    }
  }
}

// What a field sends: undefined leaves it out (the default on create, the saved value on edit).
function readField(spec, el, editing) {
  const empty = editing && spec.nullable ? null : undefined;
  switch (spec.kind) {
    case "block":
      return el.value === "$keep" ? undefined : el.value === "" ? empty : el.value;
    case "secret":
      if (document.getElementById(`clear-${spec.name}`)?.checked) return null;
      return el.value === "" ? undefined : el.value;
    case "secret-json": {
      if (document.getElementById(`clear-${spec.name}`)?.checked) return null;
      if (!el.value.trim()) return undefined;
      const out = parseJson({}, el.value);
      if (out.error) throw new FieldError(spec.name, out.error);
      return out.value;
    }
    case "enum":
      return el.value === "" ? empty : JSON.parse(el.value);
    case "boolean":
      return el.checked;
    case "tristate":
      return el.value === "" ? empty : el.value === "true";
    case "number": {
      if (el.validity.badInput) throw new FieldError(spec.name, "Not a number.");
      const text = el.value.trim();
      if (text === "") return empty;
      if (!/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) {
        throw new FieldError(spec.name, "Not a number.");
      }
      return fitsANumber(text) ? Number(text) : new ExactNumber(text);
    }
    case "text":
      return el.value === "" ? (editing ? (spec.nullable ? null : "") : undefined) : el.value;
    default: {
      if (!el.value.trim()) return empty;
      const out = parseJson(spec, el.value);
      if (out.error) throw new FieldError(spec.name, out.error);
      return out.value;
    }
  }
}

class FieldError extends Error {
  constructor(field, message) { super(message); this.field = field; }
}

function setFieldError(field, message) {
  const el = document.getElementById(`err-${field}`);
  if (el) el.textContent = message;
  const input = document.getElementById(`f-${field}`);
  if (input) input.classList.toggle("invalid", Boolean(message));
}

// A nested block field with nothing saved to choose: say so, and where to create one.
function createFirst(spec) {
  const links = spec.slugs.map((s) => h("a", { href: `#/new/${enc(s)}` }, s))
    .flatMap((a, i) => (i ? [", ", a] : [a]));
  const kinds = spec.slugs.length > 1 ? "block of these types" : "block of this type";
  if (!spec.required || spec.nullable) {
    return h("p", { class: "help", id: `hint-${spec.name}` },
      `Optional; no saved ${kinds} yet. To use one, create it first: `, links, ".");
  }
  return h("p", { class: "hint", id: `hint-${spec.name}` }, `Required, and no saved ${kinds} ` +
    "yet: create one first, then come back to this form: ", links, ".");
}

async function formPage(slug, name) {
  const show = view();
  const editing = name !== undefined;
  const [schema, saved] = await Promise.all([get(`/api/types/${enc(slug)}/schema`),
    editing ? get(`/api/blocks/${enc(slug)}/${enc(name)}`) : null]);
  const specs = Object.entries(schema.properties || {}).map(([f, p]) => fieldSpec(schema, f, p));
  const choices = {};
  await Promise.all(specs.filter((s) => s.kind === "block").map(async (s) => {
    choices[s.name] = await blockChoices(s.slugs);
  }));
  const top = h("div", { id: "form-error" });
  const nameInput = editing ? null : h("input", { id: "f-$name", name: "$name", type: "text",
    required: true, placeholder: "e.g. prod-db", autocomplete: "off" });
  const rows = specs.map((spec) => {
    const current = editing ? saved.fields[spec.name] : undefined;
    const input = inputFor(spec, current, choices[spec.name] || [], editing);
    return h("div", { class: `field kind-${spec.kind}` },
      h("label", { for: input.id }, spec.title, spec.required ? h("span", { class: "req" }, " *") : null,
        " ", h("code", {}, spec.name),
        spec.kind.startsWith("secret") ? h("span", { class: "tag" }, "secret") : null),
      input,
      // Write-only, so blank keeps it: an optional secret set before needs its own way out.
      editing && spec.kind.startsWith("secret") && spec.nullable && current === "********"
        ? h("label", { class: "clear" }, h("input", { type: "checkbox", id: `clear-${spec.name}` }),
          ` Clear the saved ${spec.name}`) : null,
      h("p", { class: "help", id: `help-${spec.name}` }, spec.description),
      spec.kind === "block" && !(choices[spec.name] || []).length ? createFirst(spec) : null,
      h("p", { class: "field-error", id: `err-${spec.name}`, role: "alert" }));
  });
  const submit = async (event) => {
    event.preventDefault();
    top.replaceChildren();
    specs.forEach((s) => setFieldError(s.name, ""));
    setFieldError("$name", "");
    const values = {};
    try {
      for (const spec of specs) {
        const value = readField(spec, document.getElementById(`f-${spec.name}`), editing);
        if (value !== undefined) values[spec.name] = value;
      }
    } catch (e) {
      if (!(e instanceof FieldError)) throw e;
      setFieldError(e.field, e.message);
      top.replaceChildren(errorBox("Fix the field marked below, then save again."));
      return;
    }
    const result = editing
      ? await api("PUT", `/api/blocks/${enc(slug)}/${enc(name)}`, { version: saved.version, values })
      : await api("POST", "/api/blocks", { type: slug, name: nameInput.value.trim(), values });
    if (result.ok) {
      location.hash = blockHref(`${slug}/${result.data.name}`);
      return;
    }
    top.replaceChildren(errorBox(result.data.error));
    for (const [field, message] of Object.entries(result.data.fields || {})) {
      setFieldError(field, message);
    }
    if (!editing && /block name/.test(result.data.error)) setFieldError("$name", result.data.error);
  };
  show(h("h1", {}, editing ? `Edit ${slug}/${name}` : `New ${slug} block`),
    editing ? h("p", { class: "meta" }, `Editing version ${saved.version}. Secret fields are ` +
      "write-only: leave them blank to keep the saved value, unless you change where the " +
      "block connects (its url, host, port…): then enter them again.") : h("p", { class: "meta" },
      schema.description || ""),
    top,
    h("form", { id: "block-form", onsubmit: submit, novalidate: true },
      editing ? null : h("div", { class: "field" },
        h("label", { for: "f-$name" }, "Block name", h("span", { class: "req" }, " *")),
        nameInput,
        h("p", { class: "help" }, `Saved as ${slug}/NAME: lowercase letters, digits and ` +
          "single dashes."),
        h("p", { class: "field-error", id: "err-$name", role: "alert" })),
      rows,
      h("div", { class: "toolbar" }, h("button", { type: "submit", id: "save" }, "Save"),
        h("a", { class: "button secondary", href: editing ? blockHref(`${slug}/${name}`)
          : "#/blocks" }, "Cancel"))));
}

// -- runs ------------------------------------------------------------------------------------

async function runsPage(params) {
  const show = view();
  const filters = { flow: params.get("flow") || "", state: params.get("state") || "",
    kind: params.get("kind") || "" };
  const runs = await get(`/api/runs?flow=${enc(filters.flow)}&state=${enc(filters.state)}` +
    `&kind=${enc(filters.kind)}&limit=100`);
  const go = () => {
    location.hash = `#/runs?flow=${enc(flow.value)}&state=${enc(state.value)}&kind=${enc(kind.value)}`;
  };
  const flow = h("input", { id: "filter-flow", type: "search", placeholder: "Flow name",
    "aria-label": "Flow name", value: filters.flow, onchange: go });
  const state = h("select", { id: "filter-state", "aria-label": "State", onchange: go },
    h("option", { value: "" }, "All states"), STATES.map((s) => h("option", { value: s }, s)));
  state.value = filters.state;
  const kind = h("select", { id: "filter-kind", "aria-label": "Kind", onchange: go },
    h("option", { value: "" }, "Flows and tasks"), h("option", { value: "flow" }, "Flows"),
    h("option", { value: "task" }, "Tasks"));
  kind.value = filters.kind;
  const rows = runs.map((r) => [h("a", { href: runHref(r.id) }, r.name), r.kind,
    r.flow_name || "", badge(r.state_name), when(r.started), seconds(r.duration)]);
  show(h("h1", {}, "Runs"), h("div", { class: "toolbar" }, flow, state, kind),
    table(["run", "kind", "flow", "state", "started", "duration"], rows,
      "No runs recorded yet. Runs of @flow and @task functions appear here."));
}

const cell = (v) => (v === null || v === undefined ? ""
  : typeof v === "object" && !(v instanceof ExactNumber) ? toJSON(v) : String(v));

// A table artifact as a table (a dbt run's one row per node), markdown as its text: never as
// markup, since a run may have put anything in it.
function artifactView(artifact) {
  const data = artifact.data;
  const isTable = artifact.type === "table" && data && Array.isArray(data.columns)
    && Array.isArray(data.rows);
  const body = isTable
    ? table(data.columns, data.rows.map((row) => row.map(cell)), "No rows.")
    : h("pre", { class: "markdown" }, typeof data === "string" ? data : toJSON(data, 2));
  return h("section", { class: "artifact", "data-key": artifact.key },
    h("h3", {}, artifact.key, " ", h("span", { class: "muted" }, `${artifact.type} · ` +
      `${when(artifact.created)}`)),
    artifact.description ? h("p", {}, artifact.description) : null,
    body);
}

async function runPage(id) {
  const show = view();
  const r = await get(`/api/runs/${enc(id)}`);
  const rows = [["kind", r.kind], ["flow", r.flow_name || ""], ["state", badge(r.state_name)],
    ["attempts", r.attempts], ["started", when(r.started)], ["duration", seconds(r.duration)],
    ...(r.worker ? [["worker", r.worker]] : []),
    ["parent", r.parent_id ? h("a", { href: runHref(r.parent_id) }, r.parent_id) : ""],
    ["id", r.id]];
  show(h("h1", {}, `${r.kind} run ${r.name}`),
    facts(rows),
    r.error_type ? h("div", { class: "run-error" }, h("h2", {}, "Error"),
      errorBox(`${r.error_type}: ${r.error_message || ""}`)) : null,
    r.traceback ? h("div", {}, h("h2", {}, "Traceback"), h("pre", { id: "traceback" }, r.traceback))
      : null,
    h("h2", {}, "States"),
    table(["at", "state", "message"], r.states.map((s) => [when(s.at), badge(s.name),
      s.message || ""]), "No states recorded."),
    h("h2", {}, "Parameters"), h("pre", {}, toJSON(r.parameters, 2)),
    h("h2", {}, "Child runs"),
    table(["run", "kind", "state", "duration"], r.children.map((c) => [
      h("a", { href: runHref(c.id) }, c.name), c.kind, badge(c.state_name), seconds(c.duration)]),
    "No child runs."),
    Array.isArray(r.artifacts) ? [h("h2", {}, "Artifacts"), r.artifacts.length
      ? r.artifacts.map(artifactView) : h("p", { class: "muted" }, "No artifacts.")] : null);
}

// -- concurrency limits ----------------------------------------------------------------------

async function limitsPage() {
  const show = view();
  const limits = await get("/api/concurrency");
  const message = h("div", {});
  const name = h("input", { id: "limit-name", type: "text", placeholder: "Name, e.g. warehouse",
    "aria-label": "Limit name", required: true });
  const slots = h("input", { id: "limit-slots", type: "number", min: "0", step: "1",
    placeholder: "Slots", "aria-label": "Slots", required: true });
  const setLimit = async (event) => {
    event.preventDefault();
    const result = await api("PUT", `/api/concurrency/${enc(name.value.trim())}`,
      { slots: Number(slots.value) });
    if (result.ok) limitsPage();
    else message.replaceChildren(errorBox(result.data.error));
  };
  const remove = (limit) => async () => {
    if (!confirm(`Delete concurrency limit ${limit}? Its leases go too.`)) return;
    const result = await api("DELETE", `/api/concurrency/${enc(limit)}`);
    if (result.ok) limitsPage();
    else message.replaceChildren(errorBox(result.data.error));
  };
  show(h("h1", {}, "Concurrency limits"), message,
    table(["name", "slots", "held", "holders", ""], limits.map((l) => [h("code", {}, l.name),
      l.slots, l.active, l.holders,
      h("button", { class: "danger small", onclick: remove(l.name) }, "Delete")]),
    "No concurrency limits set."),
    h("h2", {}, "Set a limit"),
    h("form", { class: "toolbar", onsubmit: setLimit }, name, slots,
      h("button", { type: "submit", id: "limit-set" }, "Set")));
}

// -- routing ---------------------------------------------------------------------------------

async function route() {
  const show = view();
  const at = location.hash;
  const hash = location.hash || "#/blocks";
  const path = hash.slice(1).split("?")[0].split("/").filter(Boolean).map(decodeURIComponent);
  const params = query(hash);
  const section = { block: "block", blocks: "block", new: "block", edit: "block",
    types: "type", runs: "run", run: "run", limits: "limit" }[path[0]] || "block";
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("current",
    a.dataset.section === section));
  try {
    switch (path[0]) {
      case "types": await typesPage(); break;
      case "block": await blockPage(path[1], path[2]); break;
      case "new": await formPage(path[1]); break;
      case "edit": await formPage(path[1], path[2]); break;
      case "runs": await runsPage(params); break;
      case "run": await runPage(path[1]); break;
      case "limits": await limitsPage(); break;
      default: await blocksPage(params);
    }
    if (location.hash === at) {
      document.title = `${main.querySelector("h1")?.textContent || "blocks"} · blocks`;
    }
  } catch (e) {
    show(h("h1", {}, "Something went wrong"), errorBox(e.message));
  }
}

window.addEventListener("hashchange", route);
route();
