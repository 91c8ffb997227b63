// The lesson page: the question first; "what to look at" hidden until the teacher reveals it; the lesson's text
// rendered from Markdown; the other lessons as a short menu. Preset links are plain <a href="/#…"> (server side),
// so they open the lab with the spec in the URL hash even without this script.
import { renderMarkdown } from "./markdown.js";
import { compareApi } from "../compare/api.js";

const data = JSON.parse(document.getElementById("page-data").textContent);
const lesson = data.lesson;

const body = document.getElementById("lesson-body");
body.innerHTML = renderMarkdown(lesson.body);

const look = document.getElementById("lesson-look");
const reveal = document.getElementById("btn-reveal");
look.hidden = true;
reveal.hidden = false;
reveal.addEventListener("click", () => {
  look.hidden = !look.hidden;
  reveal.setAttribute("aria-expanded", String(!look.hidden));
  reveal.textContent = look.hidden ? "Show (after the class has answered)" : "Hide";
});

const nav = document.getElementById("lesson-nav");
const i = data.lessons.findIndex((x) => x.name === lesson.name);
const link = (x, text) => {
  const a = document.createElement("a");
  a.href = `/lessons/${encodeURIComponent(x.name)}`;
  a.textContent = text;
  return a;
};
const around = [];
if (i > 0) around.push(link(data.lessons[i - 1], `← ${data.lessons[i - 1].title}`));
if (i >= 0 && i < data.lessons.length - 1) around.push(link(data.lessons[i + 1], `${data.lessons[i + 1].title} →`));
around.forEach((a, k) => nav.append(...(k ? [" · ", a] : [a])));

// A comparison preset opens as one comparison (shared trials and weights, curves overlaid): made with this
// browser's owner token, so the teacher presses Play there.
for (const btn of document.querySelectorAll("button.compare-preset")) {
  const preset = lesson.presets.find((p) => p.name === btn.dataset.preset);
  const error = btn.parentElement.querySelector(".compare-error");
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    error.textContent = "";
    try {
      const made = await compareApi.create(preset.spec);
      location.href = `/compare/${encodeURIComponent(made.id)}`;
    } catch (err) {
      error.textContent = `Could not make the comparison: ${err.message}`;
      btn.disabled = false;
    }
  });
}
