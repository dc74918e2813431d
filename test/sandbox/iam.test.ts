/**
 * IAM and STS through the real SDK v3 clients: roles with trust policies, inline and managed
 * policies (with versions), instance profiles, tags, and GetCallerIdentity. Stored, not enforced:
 * these tests check that what is put is what is read back, and that IAM's conflicts and quotas
 * answer with IAM's codes.
 */
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  DeleteInstanceProfileCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListEntitiesForPolicyCommand,
  ListInstanceProfilesForRoleCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  SetDefaultPolicyVersionCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCOUNT_ID } from "../../src/sandbox/state.js";
import { type SandboxClients, sandboxWithClients } from "../helpers/sandbox.js";

let env: SandboxClients;
beforeAll(async () => {
  env = await sandboxWithClients();
});
afterAll(() => env.stop());

const trust = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
  ],
});
const readReleases = (bucket: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${bucket}/*` }],
  });

let count = 0;
const unique = (prefix: string) => `${prefix}-${++count}`;

async function createRole(name: string, extra: { Path?: string; Description?: string } = {}) {
  const out = await env.iam.send(
    new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust, ...extra }),
  );
  return out.Role!;
}

describe("roles", () => {
  it("CreateRole returns the role as IAM does: ARN without a region, AROA id, the trust policy URL-encoded", async () => {
    const role = await createRole("web-prod-instance", {
      Path: "/switchyard/",
      Description: "instances of web/prod",
    });
    expect(role).toMatchObject({
      RoleName: "web-prod-instance",
      Path: "/switchyard/",
      Arn: `arn:aws:iam::${ACCOUNT_ID}:role/switchyard/web-prod-instance`,
      Description: "instances of web/prod",
      MaxSessionDuration: 3600,
    });
    expect(role.RoleId).toMatch(/^AROA[A-Z2-7]{17}$/);
    expect(role.CreateDate).toBeInstanceOf(Date);
    // the SDK hands the document back as the wire carries it: URL-encoded
    expect(decodeURIComponent(role.AssumeRolePolicyDocument ?? "")).toBe(trust);

    const got = await env.iam.send(new GetRoleCommand({ RoleName: "web-prod-instance" }));
    expect(got.Role).toMatchObject({ RoleId: role.RoleId, Arn: role.Arn });
    expect(decodeURIComponent(got.Role?.AssumeRolePolicyDocument ?? "")).toBe(trust);
  });

  it("a second role of the same name is EntityAlreadyExists; a missing one is NoSuchEntity", async () => {
    const name = unique("dup");
    await createRole(name);
    await expect(createRole(name)).rejects.toMatchObject({
      name: "EntityAlreadyExistsException",
      message: `Role with name ${name} already exists.`,
      $metadata: { httpStatusCode: 409 },
    });
    await expect(env.iam.send(new GetRoleCommand({ RoleName: "nobody" }))).rejects.toMatchObject({
      name: "NoSuchEntityException",
      message: "The role with name nobody cannot be found.",
      $metadata: { httpStatusCode: 404 },
    });
  });

  it("rejects a name outside [\\w+=,.@-] and a trust policy that is not JSON", async () => {
    await expect(createRole("has space")).rejects.toMatchObject({
      name: "ValidationError",
      message: expect.stringContaining("roleName"),
    });
    await expect(
      env.iam.send(
        new CreateRoleCommand({ RoleName: unique("bad-doc"), AssumeRolePolicyDocument: "{nope" }),
      ),
    ).rejects.toMatchObject({ name: "MalformedPolicyDocumentException" });
  });

  it("ListRoles finds roles by path prefix; UpdateAssumeRolePolicy replaces the trust policy", async () => {
    const name = unique("listed");
    await createRole(name, { Path: "/listed/" });
    const listed = await env.iam.send(new ListRolesCommand({ PathPrefix: "/listed/" }));
    expect(listed.Roles?.map((r) => r.RoleName)).toEqual([name]);
    expect(listed.IsTruncated).toBe(false);

    const lambdaTrust = trust.replace("ec2.amazonaws.com", "lambda.amazonaws.com");
    await env.iam.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: name, PolicyDocument: lambdaTrust }),
    );
    const got = await env.iam.send(new GetRoleCommand({ RoleName: name }));
    expect(decodeURIComponent(got.Role?.AssumeRolePolicyDocument ?? "")).toBe(lambdaTrust);
  });

  it("DeleteRole removes the role, and refuses while inline policies remain", async () => {
    const name = unique("doomed");
    await createRole(name);
    await env.iam.send(
      new PutRolePolicyCommand({
        RoleName: name,
        PolicyName: "inline",
        PolicyDocument: readReleases("b"),
      }),
    );
    await expect(env.iam.send(new DeleteRoleCommand({ RoleName: name }))).rejects.toMatchObject({
      name: "DeleteConflictException",
      message: "Cannot delete entity, must delete policies first.",
      $metadata: { httpStatusCode: 409 },
    });
    await env.iam.send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: "inline" }));
    await env.iam.send(new DeleteRoleCommand({ RoleName: name }));
    await expect(env.iam.send(new GetRoleCommand({ RoleName: name }))).rejects.toMatchObject({
      name: "NoSuchEntityException",
    });
  });

  it("tags: TagRole adds and overwrites, ListRoleTags lists, UntagRole removes", async () => {
    const name = unique("tagged");
    await env.iam.send(
      new CreateRoleCommand({
        RoleName: name,
        AssumeRolePolicyDocument: trust,
        Tags: [{ Key: "app", Value: "web" }],
      }),
    );
    await env.iam.send(
      new TagRoleCommand({
        RoleName: name,
        Tags: [
          { Key: "app", Value: "api" },
          { Key: "env", Value: "prod" },
        ],
      }),
    );
    const tags = await env.iam.send(new ListRoleTagsCommand({ RoleName: name }));
    expect(tags.Tags).toEqual([
      { Key: "app", Value: "api" },
      { Key: "env", Value: "prod" },
    ]);
    await env.iam.send(new UntagRoleCommand({ RoleName: name, TagKeys: ["app"] }));
    const after = await env.iam.send(new GetRoleCommand({ RoleName: name }));
    expect(after.Role?.Tags).toEqual([{ Key: "env", Value: "prod" }]);
  });
});

describe("inline role policies", () => {
  it("PutRolePolicy stores the document; GetRolePolicy returns it URL-encoded; ListRolePolicies names it", async () => {
    const name = unique("inline");
    await createRole(name);
    const document = readReleases("acme-releases");
    await env.iam.send(
      new PutRolePolicyCommand({
        RoleName: name,
        PolicyName: "read-releases",
        PolicyDocument: document,
      }),
    );
    const got = await env.iam.send(
      new GetRolePolicyCommand({ RoleName: name, PolicyName: "read-releases" }),
    );
    expect(got).toMatchObject({ RoleName: name, PolicyName: "read-releases" });
    expect(decodeURIComponent(got.PolicyDocument ?? "")).toBe(document);
    const listed = await env.iam.send(new ListRolePoliciesCommand({ RoleName: name }));
    expect(listed.PolicyNames).toEqual(["read-releases"]);

    // putting again replaces
    const other = readReleases("other-bucket");
    await env.iam.send(
      new PutRolePolicyCommand({
        RoleName: name,
        PolicyName: "read-releases",
        PolicyDocument: other,
      }),
    );
    const replaced = await env.iam.send(
      new GetRolePolicyCommand({ RoleName: name, PolicyName: "read-releases" }),
    );
    expect(decodeURIComponent(replaced.PolicyDocument ?? "")).toBe(other);

    await env.iam.send(
      new DeleteRolePolicyCommand({ RoleName: name, PolicyName: "read-releases" }),
    );
    await expect(
      env.iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: "read-releases" })),
    ).rejects.toMatchObject({
      name: "NoSuchEntityException",
      message: "The role policy with name read-releases cannot be found.",
    });
    expect(
      (await env.iam.send(new ListRolePoliciesCommand({ RoleName: name }))).PolicyNames,
    ).toEqual([]);
  });
});

describe("managed policies", () => {
  it("CreatePolicy, attach to a role, versions, detach, delete", async () => {
    const role = unique("attached");
    await createRole(role);
    const created = await env.iam.send(
      new CreatePolicyCommand({
        PolicyName: unique("switchyard-operator"),
        PolicyDocument: readReleases("v1"),
        Description: "what switchyard needs",
      }),
    );
    const arn = created.Policy?.Arn ?? "";
    expect(arn).toMatch(new RegExp(`^arn:aws:iam::${ACCOUNT_ID}:policy/switchyard-operator-\\d+$`));
    expect(created.Policy).toMatchObject({
      DefaultVersionId: "v1",
      AttachmentCount: 0,
      IsAttachable: true,
    });
    expect(created.Policy?.PolicyId).toMatch(/^ANPA[A-Z2-7]{17}$/);

    await env.iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: arn }));
    const attached = await env.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role }));
    expect(attached.AttachedPolicies).toEqual([
      { PolicyName: created.Policy?.PolicyName, PolicyArn: arn },
    ]);
    expect((await env.iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy).toMatchObject({
      AttachmentCount: 1,
    });
    const entities = await env.iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: arn }));
    expect(entities.PolicyRoles?.map((r) => r.RoleName)).toEqual([role]);

    // a new default version, then back to v1, then v2 deleted
    const v2 = await env.iam.send(
      new CreatePolicyVersionCommand({
        PolicyArn: arn,
        PolicyDocument: readReleases("v2"),
        SetAsDefault: true,
      }),
    );
    expect(v2.PolicyVersion).toMatchObject({ VersionId: "v2", IsDefaultVersion: true });
    const versions = await env.iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }));
    expect(versions.Versions?.map((v) => [v.VersionId, v.IsDefaultVersion]).sort()).toEqual([
      ["v1", false],
      ["v2", true],
    ]);
    const got = await env.iam.send(
      new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: "v2" }),
    );
    expect(decodeURIComponent(got.PolicyVersion?.Document ?? "")).toBe(readReleases("v2"));
    expect(
      (await env.iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy?.DefaultVersionId,
    ).toBe("v2");

    await expect(
      env.iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: "v2" })),
    ).rejects.toMatchObject({
      name: "DeleteConflictException",
      message: "Cannot delete the default version of a policy.",
    });
    await env.iam.send(new SetDefaultPolicyVersionCommand({ PolicyArn: arn, VersionId: "v1" }));
    await env.iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: "v2" }));
    await expect(
      env.iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: "v2" })),
    ).rejects.toMatchObject({ name: "NoSuchEntityException" });

    // attached: cannot be deleted, and neither can the role
    await expect(env.iam.send(new DeletePolicyCommand({ PolicyArn: arn }))).rejects.toMatchObject({
      name: "DeleteConflictException",
      message: "Cannot delete a policy attached to entities.",
    });
    await expect(env.iam.send(new DeleteRoleCommand({ RoleName: role }))).rejects.toMatchObject({
      name: "DeleteConflictException",
      message: "Cannot delete entity, must detach all policies first.",
    });
    await env.iam.send(new DetachRolePolicyCommand({ RoleName: role, PolicyArn: arn }));
    expect(
      (await env.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role })))
        .AttachedPolicies,
    ).toEqual([]);
    await env.iam.send(new DeletePolicyCommand({ PolicyArn: arn }));
    await expect(env.iam.send(new GetPolicyCommand({ PolicyArn: arn }))).rejects.toMatchObject({
      name: "NoSuchEntityException",
      message: `Policy ${arn} does not exist or is not attachable.`,
    });
  });

  it("keeps at most five versions: the sixth is LimitExceeded", async () => {
    const created = await env.iam.send(
      new CreatePolicyCommand({ PolicyName: unique("many"), PolicyDocument: readReleases("1") }),
    );
    const arn = created.Policy?.Arn ?? "";
    for (const n of [2, 3, 4, 5]) {
      await env.iam.send(
        new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: readReleases(`${n}`) }),
      );
    }
    await expect(
      env.iam.send(
        new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: readReleases("6") }),
      ),
    ).rejects.toMatchObject({ name: "LimitExceededException", $metadata: { httpStatusCode: 409 } });
  });

  it("attaching a policy that does not exist is NoSuchEntity", async () => {
    const role = unique("lonely");
    await createRole(role);
    const missing = `arn:aws:iam::${ACCOUNT_ID}:policy/missing`;
    await expect(
      env.iam.send(new AttachRolePolicyCommand({ RoleName: role, PolicyArn: missing })),
    ).rejects.toMatchObject({
      name: "NoSuchEntityException",
      message: `Policy ${missing} does not exist or is not attachable.`,
    });
  });
});

describe("instance profiles", () => {
  it("holds one role: add, read back, list for the role, remove, delete", async () => {
    const role = await createRole(unique("profiled"));
    const name = unique("web-prod-profile");
    const created = await env.iam.send(
      new CreateInstanceProfileCommand({ InstanceProfileName: name }),
    );
    expect(created.InstanceProfile).toMatchObject({
      InstanceProfileName: name,
      Path: "/",
      Arn: `arn:aws:iam::${ACCOUNT_ID}:instance-profile/${name}`,
      Roles: [],
    });
    expect(created.InstanceProfile?.InstanceProfileId).toMatch(/^AIPA[A-Z2-7]{17}$/);

    await env.iam.send(
      new AddRoleToInstanceProfileCommand({ InstanceProfileName: name, RoleName: role.RoleName }),
    );
    const got = await env.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }));
    expect(got.InstanceProfile?.Roles?.map((r) => r.Arn)).toEqual([role.Arn]);
    const forRole = await env.iam.send(
      new ListInstanceProfilesForRoleCommand({ RoleName: role.RoleName }),
    );
    expect(forRole.InstanceProfiles?.map((p) => p.InstanceProfileName)).toEqual([name]);

    // a second role does not fit; the role cannot be deleted while it is in the profile
    const other = await createRole(unique("second"));
    await expect(
      env.iam.send(
        new AddRoleToInstanceProfileCommand({
          InstanceProfileName: name,
          RoleName: other.RoleName,
        }),
      ),
    ).rejects.toMatchObject({
      name: "LimitExceededException",
      message: "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
    });
    await expect(
      env.iam.send(new DeleteRoleCommand({ RoleName: role.RoleName })),
    ).rejects.toMatchObject({
      name: "DeleteConflictException",
      message: "Cannot delete entity, must remove roles from instance profile first.",
    });
    await expect(
      env.iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: name })),
    ).rejects.toMatchObject({ name: "DeleteConflictException" });

    await env.iam.send(
      new RemoveRoleFromInstanceProfileCommand({
        InstanceProfileName: name,
        RoleName: role.RoleName,
      }),
    );
    expect(
      (await env.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name })))
        .InstanceProfile?.Roles,
    ).toEqual([]);
    await env.iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: name }));
    await expect(
      env.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name })),
    ).rejects.toMatchObject({
      name: "NoSuchEntityException",
      message: `Instance Profile ${name} cannot be found.`,
    });
    await env.iam.send(new DeleteRoleCommand({ RoleName: role.RoleName }));
  });
});

describe("STS GetCallerIdentity", () => {
  it("answers the sandbox account whatever the credentials", async () => {
    const out = await env.sts.send(new GetCallerIdentityCommand({}));
    expect(out).toMatchObject({
      Account: ACCOUNT_ID,
      Arn: `arn:aws:iam::${ACCOUNT_ID}:user/sandbox`,
      UserId: "AIDASANDBOXUSER00000",
    });

    const other = new STSClient({
      endpoint: env.sandbox.endpoint,
      region: env.sandbox.region,
      credentials: { accessKeyId: "SOMEONEELSE", secretAccessKey: "x" },
      maxAttempts: 1,
    });
    try {
      expect((await other.send(new GetCallerIdentityCommand({}))).Account).toBe(ACCOUNT_ID);
    } finally {
      other.destroy();
    }
  });
});
