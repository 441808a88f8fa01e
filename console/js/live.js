// Live updates: one EventSource on /console/api/events. The stream carries no owner data, only
// "something changed" and the waiting count; screens refetch what they show through the API.
// EventSource reconnects by itself after a dropped connection; when the browser gives up
// (the server answered an error, e.g. a restart), we start a new one with a growing delay.

const listeners = new Set();
const statusListeners = new Set();
let source = null;
let retryMs = 1000;
let retryTimer = null;

function emit(data) {
  for (const fn of listeners) {
    try {
      fn(data);
    } catch (err) {
      console.warn("live listener failed", err);
    }
  }
}

function setStatus(online) {
  for (const fn of statusListeners) fn(online);
}

function connect() {
  clearTimeout(retryTimer);
  source = new EventSource("/console/api/events");
  source.addEventListener("open", () => {
    retryMs = 1000;
    setStatus(true);
  });
  source.addEventListener("changed", (ev) => {
    let data = {};
    try {
      data = JSON.parse(ev.data || "{}");
    } catch (_err) {
      data = {};
    }
    emit(data);
  });
  source.addEventListener("error", () => {
    setStatus(false);
    if (source.readyState === EventSource.CLOSED) {
      source.close();
      retryTimer = setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 30000);
    }
  });
}

/** Start the stream once; fn(data) on every change ({waiting, mark}). Returns an unsubscribe. */
export function onChange(fn) {
  listeners.add(fn);
  if (!source) connect();
  return () => listeners.delete(fn);
}

/** fn(true|false) when the stream connects or drops (the shell shows a dot). */
export function onStatus(fn) {
  statusListeners.add(fn);
}

let audio = null;

/** Called on the first touch of the page: browsers only let audio start after a gesture. */
export function unlockAudio() {
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === "suspended") audio.resume();
  } catch (_err) {
    // no audio here: the title and badge still alert
  }
}

/** A short two-tone beep made with WebAudio (no audio file to serve). */
export function beep() {
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === "suspended") audio.resume();
    const t = audio.currentTime;
    [880, 1320].forEach((freq, i) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + i * 0.18);
      gain.gain.exponentialRampToValueAtTime(0.25, t + i * 0.18 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.18 + 0.16);
      osc.connect(gain).connect(audio.destination);
      osc.start(t + i * 0.18);
      osc.stop(t + i * 0.18 + 0.17);
    });
  } catch (_err) {
    // no audio device or autoplay refused: the title and badge still show it
  }
}
