// Glossa: marks the document as scripted before it is drawn, so the stylesheet can fold away what only
// a page without JavaScript needs (the always-open form) without a flash of it. Loaded in <head>,
// not deferred, from a file: the Content Security Policy allows no inline script.
document.documentElement.classList.add("js");
