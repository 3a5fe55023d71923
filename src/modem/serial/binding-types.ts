/**
 * serialport's binding types. @serialport/bindings-interface has an `exports` map without a `types`
 * condition, so TypeScript's bundler resolution cannot see its declarations through the package name;
 * this type-only re-export points at the file itself (erased at run time, nothing is loaded).
 * A tsconfig `paths` entry for the package would make this file unnecessary.
 */
export type {
  BindingInterface, BindingPortInterface, BindingsErrorInterface, OpenOptions, PortInfo, PortStatus, SetOptions,
  UpdateOptions,
} from "../../../node_modules/@serialport/bindings-interface/dist/index.d.ts";
