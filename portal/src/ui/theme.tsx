// Light or dark: the system's choice by default (prefers-color-scheme), or
// the developer's, kept in localStorage (a display preference, nothing secret).
import { useState } from "react";

export type Theme = "system" | "light" | "dark";
const key = "cosync-portal-theme";

export function loadTheme(): Theme {
  try {
    const v = localStorage.getItem(key);
    return v === "light" || v === "dark" ? v : "system";
  } catch {
    return "system";
  }
}

/** applyTheme sets data-theme on <html>, which styles.css reads; "system" removes it. */
export function applyTheme(t: Theme): void {
  if (t === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = t;
  try {
    if (t === "system") localStorage.removeItem(key);
    else localStorage.setItem(key, t);
  } catch {
    // Storage refused (private mode): the choice lasts until reload.
  }
}

export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(loadTheme);
  return (
    <label className="theme-toggle">
      <span className="offscreen">Color theme</span>
      <select
        value={theme}
        onChange={(e) => {
          const t = e.target.value as Theme;
          setTheme(t);
          applyTheme(t);
        }}
      >
        <option value="system">System theme</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}
