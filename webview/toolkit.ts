// The one module that knows about @vscode/webview-ui-toolkit. The toolkit is deprecated upstream
// (January 2025); the dashboard only uses the custom-element tags registered here, so replacing it
// means rewriting this file (or registering look-alike elements), nothing else.
// scripts/lint.mjs rejects an import of the toolkit from any other file.
import { provideVSCodeDesignSystem, vsCodeCheckbox, vsCodeProgressRing } from '@vscode/webview-ui-toolkit';

/** The tags the dashboard's markup may use. */
export const toolkitTags = ['vscode-checkbox', 'vscode-progress-ring'] as const;

export function registerToolkit(): void {
  provideVSCodeDesignSystem().register(vsCodeCheckbox(), vsCodeProgressRing());
}

/** `checked` of a <vscode-checkbox> (same property as a native checkbox). */
export function isChecked(element: Element): boolean {
  return (element as Element & { checked?: boolean }).checked === true;
}
