import { el } from './dom.js';

type Field = HTMLInputElement | HTMLSelectElement;

/** The error line shown under one field (its id is `${field id}-error`). */
function errorSpan(field: Field): HTMLElement {
  const id = `${field.id}-error`;
  let span = document.getElementById(id);
  if (!span) {
    span = el('span', 'field-error');
    span.id = id;
    span.hidden = true;
    field.insertAdjacentElement('afterend', span);
  }
  const described = new Set((field.getAttribute('aria-describedby') ?? '').split(/\s+/).filter(Boolean));
  described.add(id);
  field.setAttribute('aria-describedby', [...described].join(' '));
  return span;
}

/**
 * Shows an error next to its field, with `aria-invalid` and `aria-describedby` pointing at the message,
 * and clears both as soon as the field holds a valid value again.
 */
export function setFieldError(field: Field, message: string | undefined): void {
  const span = errorSpan(field);
  span.textContent = message ?? '';
  span.hidden = message === undefined;
  if (message === undefined) field.removeAttribute('aria-invalid');
  else field.setAttribute('aria-invalid', 'true');
}

/** Whether a field shows an error now. */
export function hasFieldError(field: Field): boolean {
  return field.getAttribute('aria-invalid') === 'true';
}
