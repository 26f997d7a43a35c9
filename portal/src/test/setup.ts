import "@testing-library/jest-dom/vitest";
import { configure } from "@testing-library/react";

// findBy…/waitFor give up after this long; the default second is too short
// on a busy machine for a debounced query and its re-render.
configure({ asyncUtilTimeout: 5000 });
