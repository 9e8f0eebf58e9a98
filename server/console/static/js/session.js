// The caller's token. The host product hands it over in one of two ways
// (README, "Console"): in the URL fragment (#access_token=…), which never
// reaches a server log and is removed from the address bar at once, or by
// postMessage from the embedding page, accepted only from the configured
// host origins. The token lives in sessionStorage: this tab only, gone when
// it closes.

const storageKey = 'zoomconnect.token';

function decodePart(part) {
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

// parse reads a token's claims for display and routing only; the service
// verifies every call.
function parse(token) {
  if (typeof token !== 'string' || token.length > 8192) return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const c = decodePart(parts[1]);
    if (typeof c.sub !== 'string' || typeof c.org_id !== 'string' || typeof c.exp !== 'number') return null;
    return c;
  } catch {
    return null;
  }
}

function expired(c) {
  return c.exp * 1000 <= Date.now();
}

// setToken keeps token if it is a readable, unexpired person's token.
export function setToken(token) {
  const c = parse(token);
  if (!c || expired(c)) return false;
  sessionStorage.setItem(storageKey, token);
  return true;
}

export function token() {
  return sessionStorage.getItem(storageKey) || '';
}

// claims of the current token, or null when signed out or expired.
export function claims() {
  const c = parse(token());
  if (!c || expired(c)) return null;
  return c;
}

export function signOut() {
  sessionStorage.removeItem(storageKey);
}

// takeTokenFromFragment reads #access_token=… once and removes it from the
// address bar and history. It reports whether a token was taken.
export function takeTokenFromFragment() {
  const hash = location.hash.slice(1);
  if (!/(^|&)access_token=/.test(hash)) return false;
  const tok = new URLSearchParams(hash).get('access_token');
  history.replaceState(null, '', `${location.pathname}${location.search}#/`);
  return setToken(tok);
}

// listenForHost accepts {type: 'zoomconnect:token', token} from the
// embedding page when its origin is one of origins, answers
// {type: 'zoomconnect:signedIn'} (or 'zoomconnect:tokenRejected' for an
// unreadable or expired token), and tells the host when the console is
// ready to receive one.
export function listenForHost(origins, onToken) {
  if (!origins.length || window.parent === window) return;
  window.addEventListener('message', (ev) => {
    if (ev.source !== window.parent || !origins.includes(ev.origin)) return;
    const d = ev.data;
    if (!d || d.type !== 'zoomconnect:token') return;
    const ok = setToken(d.token);
    ev.source.postMessage({ type: ok ? 'zoomconnect:signedIn' : 'zoomconnect:tokenRejected' }, ev.origin);
    if (ok) onToken();
  });
  for (const origin of origins) window.parent.postMessage({ type: 'zoomconnect:ready' }, origin);
}
