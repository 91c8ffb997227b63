// Who owns a run: the owner token the server hands out once, when this browser creates its first run.
//
// The token lives in localStorage["creditlab.owner"] and never in the URL, so a shared link is a watch link.
// Controls and run creation carry it as "Authorization: Bearer …"; each websocket connection presents it once.

const KEY = "creditlab.owner";
let memory = null; // private mode: kept for this page only

export function ownerToken() {
  try {
    return localStorage.getItem(KEY) || memory;
  } catch {
    return memory;
  }
}

export function saveOwnerToken(token) {
  if (!token) return;
  memory = token;
  try {
    localStorage.setItem(KEY, token);
  } catch {
    /* not remembered across reloads in private mode */
  }
}

/** Headers that prove ownership, or none when this browser holds no token. */
export function authHeaders() {
  const t = ownerToken();
  return t ? { Authorization: `Bearer ${t}` } : {};
}
