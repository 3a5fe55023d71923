/** Form helpers: field errors rendered next to inputs after a 422. */
export function FieldError({ errors, name }: { errors?: Record<string, string>; name: string }): JSX.Element {
  const msg = errors?.[name];
  return msg ? <div class="field-error" safe>{msg}</div> : <></>;
}
