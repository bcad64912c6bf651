/** How a bound phone number is shown anywhere but the one answer that binds it: `138****8000`. */
export function maskPhone(purePhoneNumber: string): string {
  const digits = purePhoneNumber.trim();
  if (digits.length >= 7) return `${digits.slice(0, 3)}${'*'.repeat(digits.length - 7)}${digits.slice(-4)}`;
  if (digits.length >= 3) return `${'*'.repeat(digits.length - 2)}${digits.slice(-2)}`;
  return '*'.repeat(digits.length);
}
