// Copy buttons: a `button[data-copy]` inside the element puts its value on the clipboard, or,
// where the page may not write to it (plain http other than localhost), selects the text
// beside it for the operator to copy.

export function mount(element, api) {
  async function copy(event) {
    const button = event.target.closest("button[data-copy]");
    if (!button || !element.contains(button)) return;
    const value = button.dataset.copy;
    try {
      await navigator.clipboard.writeText(value);
      api.tell(`Copied ${value}.`);
    } catch {
      const text = button.previousElementSibling ?? button;
      getSelection().selectAllChildren(text);
      api.tell(`Selected ${value}: press Ctrl+C (⌘C) to copy it.`);
    }
  }
  element.addEventListener("click", copy);
  return () => element.removeEventListener("click", copy);
}
