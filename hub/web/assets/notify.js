// Agent alerts: a new conversation that is mine or unassigned (the feed sends only those on
// channels I may see), or one assigned to me, raises a browser notification (permission
// asked once) and a short tone. Both switch on and off; the choice stays in localStorage.
import { h } from "./dom.js";

const SETTINGS_KEY = "chorus.alerts";
const ASKED_KEY = "chorus.alerts.asked";

export function alertSettings() {
  return { desktop: true, sound: true, ...JSON.parse(localStorage.getItem(SETTINGS_KEY) || "{}") };
}

function saveSettings(settings) { localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings)); }

// Ask for the permission once per browser: a refusal is the agent's answer, not asked again.
export function askPermissionOnce() {
  if (!("Notification" in window) || Notification.permission !== "default") return;
  if (localStorage.getItem(ASKED_KEY)) return;
  localStorage.setItem(ASKED_KEY, "1");
  Notification.requestPermission().catch(() => {});
}

// What deserves an alert in a live feed frame, if anything: its title. ``known`` is the
// conversation as the inbox knew it before the frame; my own changes raise nothing.
export function alertFor(frame, known, me) {
  const c = frame.conversation;
  if (!frame.type || !c || c.status === "resolved") return null;
  if (frame.new_conversation && (!c.assignee || c.assignee === me)) {
    return c.assignee === me ? "New conversation assigned to you" : "New conversation";
  }
  const byMe = frame.actor && frame.actor.id === me;
  if (frame.type === "conversation" && c.assignee === me && known.assignee !== me && !byMe) {
    return "Conversation assigned to you";
  }
  return null;
}

let audio = null;
function tone() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  audio = audio || new Context();
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.frequency.value = 880;
  gain.gain.setValueAtTime(0.15, audio.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.25);
  osc.connect(gain).connect(audio.destination);
  osc.start();
  osc.stop(audio.currentTime + 0.25);
}

export function raiseAlert(title, body, conversationId) {
  const settings = alertSettings();
  if (settings.sound) tone();
  if (!settings.desktop || !("Notification" in window) || Notification.permission !== "granted") return;
  const note = new Notification(title, { body: body || "", tag: conversationId });
  note.onclick = () => { window.focus(); location.hash = `#/c/${encodeURIComponent(conversationId)}`; };
}

// The two switches, for the sidebar.
export function alertSwitches() {
  const settings = alertSettings();
  const toggle = (key, label) => {
    const box = h("input", { type: "checkbox", id: `alert-${key}`, checked: settings[key], onchange: () => {
      const now = alertSettings();
      now[key] = box.checked;
      saveSettings(now);
      if (key === "desktop" && box.checked && "Notification" in window && Notification.permission === "default") {
        Notification.requestPermission().catch(() => {});
      }
    } });
    return h("label", { for: `alert-${key}` }, box, ` ${label}`);
  };
  return h("div", { class: "alerts", role: "group", "aria-label": "Alerts" },
    toggle("desktop", "Desktop alerts"), toggle("sound", "Sound"));
}
