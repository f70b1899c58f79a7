// The pages work without this script; it only adds conveniences.

// Copy buttons: <button data-copy="ID"> copies the text of the element with that id.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const target = document.getElementById(button.dataset.copy);
  if (!target) return;
  // The visible word changes; the rest of the button's name (which copy) stays for screen readers.
  const label = button.querySelector(".label") ?? button;
  try {
    await navigator.clipboard.writeText(target.textContent);
    label.textContent = "Copied";
  } catch {
    const range = document.createRange();
    range.selectNodeContents(target);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    label.textContent = "Press Ctrl+C";
  }
  setTimeout(() => { label.textContent = "Copy"; }, 2000);
});

// Times: the page says UTC; show the reader's own time and how long ago (or until), keeping
// the UTC moment in the tooltip.
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const local = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
function ago(date) {
  const seconds = (date.getTime() - Date.now()) / 1000;
  for (const [unit, size] of [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]]) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(Math.round(seconds), "second");
}
for (const time of document.querySelectorAll("time[datetime]")) {
  const date = new Date(time.getAttribute("datetime"));
  if (Number.isNaN(date.getTime())) continue;
  time.title = time.textContent;
  time.textContent = local.format(date);
  const when = document.createElement("span");
  when.className = "local";
  when.textContent = ` (${ago(date)})`;
  time.append(when);
}

// Typing an expiry date chooses "On a date".
const expires = document.querySelector('input[name="expires"]');
const onDate = document.querySelector('input[name="expiry"][value="date"]');
if (expires && onDate) {
  expires.addEventListener("input", () => { if (expires.value) onDate.checked = true; });
}
