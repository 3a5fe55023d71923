// Bun's text imports (`import x from "./file.sql" with { type: "text" }`) embed files in the executable.
declare module "*.sql" {
  const text: string;
  export default text;
}
declare module "*.css" {
  const text: string;
  export default text;
}
declare module "*.min.js" {
  const text: string;
  export default text;
}
