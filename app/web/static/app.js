// Parley's only script: live updates through EventSource, and voice notes with MediaRecorder.
"use strict";

// A page shown again after a refused send was answered at the address the form posted
// to: put the page's own address back, so reloading does not send again and live updates
// fetch the page rather than the form's address.
function restoreAddress() {
  const page = document.body.dataset.page;
  if (page && window.location.pathname !== page) window.history.replaceState(null, "", page);
}

// Replace one region with its fresh copy; what the reader has open (and typed) stays.
async function refresh(selector) {
  const response = await fetch(window.location.href, { headers: { Accept: "text/html" } });
  if (!response.ok) return;
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = page.querySelector(selector);
  const current = document.querySelector(selector);
  if (!fresh || !current) return;
  const open = [...current.querySelectorAll("details[open]")].map((details) => details.id);
  const typed = [...current.querySelectorAll("textarea")].map((area) => [area.id, area.value]);
  current.replaceWith(fresh);
  open.forEach((id) => { const details = document.getElementById(id); if (details) details.open = true; });
  typed.forEach(([id, value]) => { const area = document.getElementById(id); if (area && value) area.value = value; });
}

function listen() {
  const live = document.body.dataset.live;
  if (!live || !window.EventSource) return;
  const events = new EventSource("/web/events");
  const onEvent = (message) => {
    const data = JSON.parse(message.data);
    if (live === "inbox") refresh("#live");
    else if (String(data.conversation_id) === document.body.dataset.conversation) refresh("#thread");
  };
  for (const kind of ["message.created", "message.read", "conversation.updated"]) {
    events.addEventListener(kind, onEvent);
  }
}

// The record button sits outside the regions that refresh() replaces, so it is wired once
// and a recording survives live updates of the thread.
function wireVoice() {
  const button = document.getElementById("record");
  if (!button || !navigator.mediaDevices || !window.MediaRecorder) return;
  const status = document.getElementById("record-status");
  let recorder = null;
  button.onclick = async () => {
    if (recorder) { recorder.stop(); return; }
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const chunks = [];
    recorder = new MediaRecorder(stream);
    recorder.ondataavailable = (event) => chunks.push(event.data);
    recorder.onstop = async () => {
      stream.getTracks().forEach((track) => track.stop());
      const form = new FormData();
      form.append("csrf_token", button.dataset.csrf);
      form.append("file", new Blob(chunks, { type: recorder.mimeType }), "voice-note.webm");
      recorder = null;
      button.textContent = "Record a voice note";
      status.textContent = "Sending…";
      const response = await fetch(button.dataset.action, { method: "POST", body: form });
      status.textContent = response.ok ? "Sent." : "The voice note could not be sent.";
      refresh("#thread");
    };
    recorder.start();
    button.textContent = "Stop and send";
    status.textContent = "Recording…";
  };
}

restoreAddress();
listen();
wireVoice();
