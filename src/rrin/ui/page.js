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

  // Tab leaves a drop-down closed. Gradio's list closes when its box loses focus, but its
  // own key handler, run a moment later, opens it again for any key but a few (Tab among
  // them): that handler never sees Tab, and the browser still moves the focus on.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const input = document.activeElement;
    if (input && input.getAttribute("role") === "combobox") event.stopPropagation();
  }, true);

  // The browser's "Video not playable" pop-up is not news: the line under the video says
  // whether the page can read it, and a result the browser cannot play is downloaded.
  // Player controls get names a person understands (Gradio's are ids, or none).
  const human = {
    "play-pause-replay-button": "Play or pause", "full-screen": "Full screen", "exit-full-screen": "Leave full screen",
  };
  const unnamed = [
    ["progress", "Position in the video"],
    ["a.download-link", "Download the file"],
    ["video", null],
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
    document.querySelectorAll("[aria-label]").forEach((control) => {
      const name = control.getAttribute("aria-label");
      if (human[name]) control.setAttribute("aria-label", human[name]);
      else if (/^[a-z0-9]+(-[a-z0-9]+)+$/.test(name)) {
        control.setAttribute("aria-label", name.replace(/-/g, " ").replace(/^./, (c) => c.toUpperCase()));
      }
    });
    for (const [selector, name] of unnamed) {
      document.querySelectorAll(selector).forEach((control) => {
        if (control.getAttribute("aria-label") || control.textContent.trim()) return;
        const place = control.closest("#result-video, #input-video, #download, [id]");
        const video = place && place.id === "result-video" ? "The result" : "Your video";
        control.setAttribute("aria-label", name || video);
      });
    }
  };
  new MutationObserver(tidy).observe(document.documentElement,
    { childList: true, subtree: true, attributes: true, attributeFilter: ["aria-label"] });
})();
