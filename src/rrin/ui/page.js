// rrin ui: small fixes to Gradio's page, for people and keyboards (loaded in <head>).
// RRIN_MAX_UPLOAD_BYTES is set before this script by the server (0: no limit).
(() => {
  "use strict";
  const limit = window.RRIN_MAX_UPLOAD_BYTES || 0;
  // Where a refusal of a chosen file is shown: the line under that upload.
  const lineFor = { "input-video": "facts", "image0": "pair-status", "image1": "pair-status" };

  const megabytes = (bytes) => {
    const mb = bytes / 1e6;
    return (mb >= 10 ? Math.round(mb) : Math.round(mb * 10) / 10).toLocaleString("en") + " MB";
  };

  // A file over the upload limit is refused here, in words and in MB, before Gradio
  // uploads it (the server refuses it too) or shows its own pop-up.
  const tooLarge = (files) => Array.from(files || []).find((file) => limit && file.size > limit);
  const refuse = (target, file) => {
    let id = null;
    for (let node = target; node; node = node.parentElement) {
      if (node.id && lineFor[node.id]) { id = lineFor[node.id]; break; }
    }
    const line = document.getElementById(id || "facts");
    const text = `⚠️ “${file.name}” is ${megabytes(file.size)}: this page takes files up to ${megabytes(limit)}.`;
    const paragraph = line && (line.querySelector(".prose, .md") || line);
    if (paragraph) paragraph.textContent = text;
  };
  document.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file") return;
    const file = tooLarge(input.files);
    if (!file) return;
    event.stopImmediatePropagation();
    event.preventDefault();
    refuse(input, file);
    input.value = "";
  }, true);
  document.addEventListener("drop", (event) => {
    const file = tooLarge(event.dataTransfer && event.dataTransfer.files);
    if (!file) return;
    event.stopImmediatePropagation();
    event.preventDefault();
    refuse(event.target, file);
  }, true);

  // Tab leaves a drop-down closed (Gradio's list stays open when Tab moves on).
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const input = document.activeElement;
    if (!input || input.getAttribute("role") !== "combobox" || input.getAttribute("aria-expanded") !== "true") return;
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", code: "Escape", bubbles: true }));
  }, true);

  // The browser's "Video not playable" pop-up is not news: the line under the video says
  // whether the page can read it, and a result the browser cannot play is downloaded.
  // Player controls without a name get one.
  const names = [
    [".play-pause-button, [data-testid='play-pause-button']", "Play or pause"],
    [".fullscreen-button, [data-testid='fullscreen-button']", "Full screen"],
    ["input[type='range'].time, progress, .timeline input[type='range']", "Position in the video"],
    ["input[type='range'].volume", "Volume"],
  ];
  const tidy = () => {
    document.querySelectorAll(".toast-message-text").forEach((text) => {
      if (text.textContent.trim() === "Video not playable") {
        const toast = text.closest(".toast-body");
        const items = toast ? toast.querySelectorAll(".toast-message-item") : [];
        if (toast && items.length <= 1) toast.querySelector(".toast-close")?.click();
        else text.closest(".toast-message-item").style.display = "none";
      }
    });
    for (const [selector, name] of names) {
      document.querySelectorAll(selector).forEach((control) => {
        if (!control.getAttribute("aria-label") && !control.textContent.trim()) control.setAttribute("aria-label", name);
      });
    }
    document.querySelectorAll("video").forEach((video) => {
      if (!video.getAttribute("aria-label")) {
        const labelled = video.closest("[id]");
        video.setAttribute("aria-label", labelled && labelled.id === "result-video" ? "The result" : "Your video");
      }
    });
  };
  new MutationObserver(tidy).observe(document.documentElement, { childList: true, subtree: true });
})();
