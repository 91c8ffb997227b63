// The lesson page: the question first; "what to look at" hidden until the teacher reveals it; the lesson's text
// rendered from Markdown; the other lessons as a short menu. Preset links are plain <a href="/#…"> (server side),
// so they open the lab with the spec in the URL hash even without this script.
import { renderMarkdown } from "./markdown.js";

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
