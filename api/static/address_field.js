// The intake's location field: a live list of geocoder candidates under it, driven from the
// keyboard (↓/↑ move, Enter chooses, Esc closes); typed coordinates keep working as before.
import { api } from "./api.js";

const DELAY_MS = 120;
const COORDINATES = /^\s*-?\d+(?:\.\d+)?\s*[,;\s]\s*-?\d+(?:\.\d+)?\s*$/;

/**
 * Attach the candidate list to `input` (a text field) and `list` (an empty <ul>).
 * `enabled()` says whether the server can geocode; `near()` gives the point to prefer (the map's centre); `onChoose(candidate, typed)` runs
 * when one is chosen. Returns { chosen(), clear() }.
 */
export function attachAddressField(input, list, { enabled, near, onChoose }) {
  let candidates = [];
  let active = -1;
  let chosen = null;
  let timer = null;
  let asked = 0;

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  list.setAttribute("role", "listbox");

  function close() {
    candidates = [];
    active = -1;
    list.replaceChildren();
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function render() {
    list.replaceChildren(
      ...candidates.map((c, i) => {
        const item = document.createElement("li");
        item.id = `${list.id}-${i}`;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", String(i === active));
        item.className = i === active ? "candidate active" : "candidate";
        const label = document.createElement("span");
        label.className = "candidate-label";
        label.textContent = c.label;
        const meta = document.createElement("span");
        meta.className = `candidate-meta precision-${c.precision}`;
        meta.textContent = `${c.precision}${c.municipality ? " · " + c.municipality : ""}`;
        item.append(label, meta);
        if (c.note) item.title = c.note;
        item.addEventListener("mousedown", (e) => { e.preventDefault(); choose(i); });
        return item;
      }),
    );
    list.hidden = candidates.length === 0;
    input.setAttribute("aria-expanded", String(candidates.length > 0));
    if (active >= 0) input.setAttribute("aria-activedescendant", `${list.id}-${active}`);
    else input.removeAttribute("aria-activedescendant");
  }

  async function lookup(text) {
    const mine = ++asked;
    const params = new URLSearchParams({ q: text, limit: "6" });
    const point = near();
    if (point) params.set("near", `${point.lat.toFixed(5)},${point.lng.toFixed(5)}`);
    try {
      const found = await api("GET", `/geocode?${params}`);
      if (mine !== asked || input.value.trim() !== text) return; // an older answer
      candidates = found.candidates;
      active = candidates.length ? 0 : -1;
      render();
    } catch {
      if (mine === asked) close(); // no area loaded, or a refused query: coordinates still work
    }
  }

  function choose(i) {
    const candidate = candidates[i];
    if (!candidate) return;
    const typed = input.value.trim();
    chosen = { ...candidate, typed };
    input.value = candidate.label;
    close();
    onChoose(chosen, typed);
  }

  input.addEventListener("input", () => {
    chosen = null;
    clearTimeout(timer);
    const text = input.value.trim();
    if (!enabled() || text.length < 2 || COORDINATES.test(text)) { close(); return; }
    timer = setTimeout(() => lookup(text), DELAY_MS);
  });
  input.addEventListener("keydown", (e) => {
    if (list.hidden || !candidates.length) return;
    if (e.key === "ArrowDown") { active = (active + 1) % candidates.length; render(); }
    else if (e.key === "ArrowUp") { active = (active - 1 + candidates.length) % candidates.length; render(); }
    else if (e.key === "Enter") { choose(Math.max(0, active)); }
    else if (e.key === "Escape") { close(); }
    else return;
    e.preventDefault();
    e.stopPropagation();
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  close();

  return {
    chosen: () => (chosen && input.value === chosen.label ? chosen : null),
    clear: () => { chosen = null; close(); },
    set: (fix) => { chosen = fix; },
  };
}
