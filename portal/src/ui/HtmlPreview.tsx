// Shows developer-written mail HTML in a sandboxed frame without loosening the
// portal's CSP. A srcdoc frame (and even DOMParser) inherits the page's
// policy, which refuses inline styles (style="…" and <style>), so the styles
// are renamed out of the markup before it is parsed and applied afterwards
// through the CSSOM (constructed sheets and element.style), which the policy
// does not govern. Scripts never run: they are dropped, and the frame's
// sandbox allows none.
import { useEffect, useRef } from "react";

export function renderPreview(doc: Document, html: string): void {
  const renamed = html
    .replace(/<style\b[^>]*>/gi, '<script type="text/x-preview-css">')
    .replace(/<\/style\s*>/gi, "</script>")
    .replace(/(<[a-z][^>]*?\s)style(\s*=)/gi, "$1data-preview-inline$2");
  const parsed = new DOMParser().parseFromString(renamed, "text/html");
  const sheets: string[] = [];
  parsed.querySelectorAll("script").forEach((s) => {
    if (s.getAttribute("type") === "text/x-preview-css") sheets.push(s.textContent ?? "");
    s.remove();
  });
  parsed.querySelectorAll("iframe, object, embed, base, meta[http-equiv], link").forEach((n) => n.remove());
  const inline: string[] = [];
  parsed.querySelectorAll("*").forEach((el) => {
    for (const a of [...el.attributes]) if (/^on/i.test(a.name)) el.removeAttribute(a.name);
    const style = el.getAttribute("data-preview-inline");
    if (style !== null) {
      el.removeAttribute("data-preview-inline");
      el.setAttribute("data-preview-style", String(inline.length));
      inline.push(style);
    }
  });
  const root = doc.importNode(parsed.documentElement, true);
  doc.replaceChild(root, doc.documentElement);
  doc.querySelectorAll<HTMLElement>("[data-preview-style]").forEach((el) => {
    el.style.cssText = inline[Number(el.getAttribute("data-preview-style"))] ?? "";
    el.removeAttribute("data-preview-style");
  });
  const view = doc.defaultView;
  if (view && "CSSStyleSheet" in view && "adoptedStyleSheets" in doc) {
    doc.adoptedStyleSheets = sheets.map((css) => {
      const sheet = new view.CSSStyleSheet();
      sheet.replaceSync(css.replace(/@import[^;]*;/g, ""));
      return sheet;
    });
  }
}

export function HtmlPreview({ html, title }: { html: string; title: string }) {
  const ref = useRef<HTMLIFrameElement>(null);
  useEffect(() => {
    const doc = ref.current?.contentDocument;
    if (doc) renderPreview(doc, html);
  }, [html]);
  // allow-same-origin lets this page write into the frame; without
  // allow-scripts nothing in it can run.
  return <iframe ref={ref} title={title} sandbox="allow-same-origin" className="preview-frame" />;
}
