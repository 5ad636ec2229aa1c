/**
 * What is wrong with a config's model groups: a member no instance serves, a member that is a
 * group, a model listed twice in one group, or a group named as a model.
 * @module
 */
import { globToRegExp } from "../lib/glob.ts";

/** A problem, at a path under `model-groups`. */
export interface GroupIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** The groups as the check reads them. */
export type GroupsToCheck = Readonly<
  Record<string, { readonly members: readonly { readonly model: string }[] }>
>;

/** The problems of `groups`, given the names (or `*` patterns) of every instance. */
export function modelGroupIssues(
  groups: GroupsToCheck,
  instanceNames: readonly string[],
): GroupIssue[] {
  const names = new Set(instanceNames.filter((name) => !name.includes("*")));
  const patterns = instanceNames.filter((name) => name.includes("*")).map(globToRegExp);
  const served = (model: string) =>
    names.has(model) || patterns.some((pattern) => pattern.test(model));
  const issues: GroupIssue[] = [];
  for (const [group, { members }] of Object.entries(groups)) {
    if (names.has(group)) {
      issues.push({
        path: [group],
        message: `Model group "${group}" has the name of a model instances serve; name it apart`,
      });
    }
    const seen = new Set<string>();
    members.forEach(({ model }, index) => {
      const path = [group, "members", index, "model"];
      if (seen.has(model)) {
        issues.push({ path, message: `Model group "${group}" lists the model "${model}" twice` });
      }
      seen.add(model);
      if (Object.hasOwn(groups, model)) {
        issues.push({
          path,
          message: `Model group "${group}" lists the group "${model}"; a member is a model`,
        });
      } else if (!served(model)) {
        issues.push({
          path,
          message: `Model group "${group}" lists the model "${model}", which no instance serves`,
        });
      }
    });
  }
  return issues;
}
