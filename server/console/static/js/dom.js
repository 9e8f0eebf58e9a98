// Small DOM helpers. Text from the API only ever reaches the page through
// textContent and attributes: the console never parses a string as markup.

// h creates an element: props are attributes, except "text" (textContent),
// "class", on* (event listeners) and DOM properties given non-string values
// (checked, disabled). Children are nodes or strings (appended as text).
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (typeof v === 'boolean' && k in el) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

// append adds children, skipping empty ones; strings become text nodes.
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

// clear removes every child of el.
export function clear(el) {
  el.replaceChildren();
  return el;
}

let ids = 0;
// uid returns a document-unique id for label/aria wiring.
export function uid(prefix) {
  ids += 1;
  return `${prefix}-${ids}`;
}
