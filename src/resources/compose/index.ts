// Docker Compose stacks: the resource, typed definitions, and the pieces tests use.
export { composeProject, type ComposeStackWant, type ComposeStackState } from "./stack.ts";
export { composeYaml, type ComposeDefinition, type ComposeService, type Healthcheck } from "./definition.ts";
export { stackFile, revisionId, type StackFile } from "./files.ts";
export { composeFact, composeCommand, parseFlavour, type ComposeFlavour } from "./flavour.ts";
