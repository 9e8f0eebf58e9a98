// Catalogs (one JSON file per language under i18n/) and locale-aware dates.

export const languages = ['en', 'de'];
const storageKey = 'zoomconnect.lang';
let lang = 'en';
let catalog = {};
let fallback = {};

async function fetchCatalog(l) {
  const res = await fetch(`i18n/${l}.json`, { cache: 'no-cache' });
  if (!res.ok) throw new Error(`catalog ${l}: HTTP ${res.status}`);
  return res.json();
}

// pickLanguage is the stored choice, else the first of the browser's
// languages the console speaks, else English.
export function pickLanguage() {
  const stored = localStorage.getItem(storageKey);
  if (languages.includes(stored)) return stored;
  for (const l of navigator.languages || [navigator.language]) {
    const base = String(l).toLowerCase().split('-')[0];
    if (languages.includes(base)) return base;
  }
  return 'en';
}

// setLanguage loads l's catalog (English fills any gap) and remembers it.
export async function setLanguage(l, remember) {
  if (!languages.includes(l)) l = 'en';
  if (!fallback.lang) fallback = await fetchCatalog('en');
  catalog = l === 'en' ? fallback : await fetchCatalog(l);
  lang = l;
  document.documentElement.lang = l;
  if (remember) localStorage.setItem(storageKey, l);
}

export function currentLanguage() {
  return lang;
}

// t looks key up and fills {placeholders} from vars.
export function t(key, vars) {
  let s = catalog[key] ?? fallback[key];
  if (s === undefined) {
    console.warn(`missing catalog key ${key}`);
    s = key;
  }
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  return s;
}

// has reports whether the catalog knows key.
export function has(key) {
  return key in catalog || key in fallback;
}

// locale is the viewer's own locale for the console's language (de-AT for
// an Austrian browser showing German), so dates read the way they expect.
function locale() {
  const match = (navigator.languages || []).find((l) => String(l).toLowerCase().split('-')[0] === lang);
  return match || lang;
}

// formatDateTime renders an RFC 3339 timestamp in the viewer's locale and
// time zone; empty for none.
export function formatDateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function formatNumber(n) {
  return new Intl.NumberFormat(locale()).format(n);
}
