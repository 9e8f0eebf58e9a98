// The REST gateway, called with the caller's bearer token in a header (never
// in a URL). Errors come back as google.rpc.Status; ApiError keeps the
// message written for people and the machine-readable reason.
import { token } from './session.js';

export class ApiError extends Error {
  constructor(status, message, reason) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

const errorInfoType = 'type.googleapis.com/google.rpc.ErrorInfo';

export async function call(method, path, { query, body, signal } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  }
  const headers = { Accept: 'application/json', Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(url, {
      method, headers, signal, cache: 'no-store', credentials: 'omit',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, '', 'NETWORK');
  }
  const text = await res.text();
  let data = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = {};
  }
  if (res.ok) return data;
  const info = (data.details || []).find((d) => d['@type'] === errorInfoType);
  const err = new ApiError(res.status, data.message || '', info ? info.reason : '');
  if (res.status === 401) window.dispatchEvent(new CustomEvent('zoomconnect:unauthenticated', { detail: err }));
  throw err;
}

const seg = encodeURIComponent;

export const orgPath = (org) => `/v1/orgs/${seg(org)}`;
export const userPath = (org, user) => `${orgPath(org)}/users/${seg(user)}`;

// enumName strips an enum's prefix: CONNECTION_STATE_ACTIVE → ACTIVE.
export function enumName(value, prefix) {
  return typeof value === 'string' && value.startsWith(prefix) ? value.slice(prefix.length) : (value || '');
}
