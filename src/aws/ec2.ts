/** EC2 operations switchyard uses: images, subnets, security groups and launch templates. */
// The EC2 client is the largest SDK package (about 0.3 s to load): it is imported on first use,
// so commands that make no EC2 call (rollback, status, retire's reads) start without it.
import { type CallOptions, call, errorName, throughCall } from "./call.js";
import type { Clients } from "./clients.js";

/** Resolves an AMI id, or an image name (newest match), to an available image id. */
export async function findImage(
  clients: Clients,
  idOrName: string,
  options: CallOptions = {},
): Promise<{ imageId: string; name: string } | undefined> {
  const { DescribeImagesCommand } = await import("@aws-sdk/client-ec2");
  try {
    const byId = /^ami-[0-9a-z]+$/.test(idOrName);
    const out = await call(
      () =>
        clients.ec2.send(
          new DescribeImagesCommand(
            byId
              ? { ImageIds: [idOrName] }
              : { Filters: [{ Name: "name", Values: [idOrName] }], Owners: ["self"] },
          ),
        ),
      options,
    );
    const images = [...(out.Images ?? [])].sort((a, b) =>
      (b.CreationDate ?? "").localeCompare(a.CreationDate ?? ""),
    );
    const image = images[0];
    return image?.ImageId ? { imageId: image.ImageId, name: image.Name ?? "" } : undefined;
  } catch (error) {
    const name = errorName(error) ?? "";
    if (name.startsWith("InvalidAMIID")) return undefined;
    throw error;
  }
}

/** Subnet ids that exist, with their VPC; missing ones are left out. */
export async function describeSubnets(
  clients: Clients,
  ids: string[],
  options: CallOptions = {},
): Promise<Array<{ subnetId: string; vpcId: string; zone: string }>> {
  const { DescribeSubnetsCommand } = await import("@aws-sdk/client-ec2");
  try {
    const out = await call(
      () => clients.ec2.send(new DescribeSubnetsCommand({ SubnetIds: ids })),
      options,
    );
    return (out.Subnets ?? []).map((s) => ({
      subnetId: s.SubnetId ?? "",
      vpcId: s.VpcId ?? "",
      zone: s.AvailabilityZone ?? "",
    }));
  } catch (error) {
    if (errorName(error) === "InvalidSubnetID.NotFound") return [];
    throw error;
  }
}

export async function describeSecurityGroups(
  clients: Clients,
  ids: string[],
  options: CallOptions = {},
): Promise<string[]> {
  const { DescribeSecurityGroupsCommand } = await import("@aws-sdk/client-ec2");
  if (ids.length === 0) return [];
  try {
    const out = await call(
      () => clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ids })),
      options,
    );
    return (out.SecurityGroups ?? []).map((g) => g.GroupId ?? "");
  } catch (error) {
    if (errorName(error) === "InvalidGroup.NotFound") return [];
    throw error;
  }
}

export async function findLaunchTemplateId(
  clients: Clients,
  name: string,
  options: CallOptions = {},
): Promise<string | undefined> {
  const { DescribeLaunchTemplatesCommand } = await import("@aws-sdk/client-ec2");
  try {
    const out = await call(
      () => clients.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: [name] })),
      options,
    );
    return out.LaunchTemplates?.[0]?.LaunchTemplateId;
  } catch (error) {
    const n = errorName(error) ?? "";
    if (n.startsWith("InvalidLaunchTemplateName") || n.startsWith("InvalidLaunchTemplateId")) {
      return undefined;
    }
    throw error;
  }
}

export interface LaunchTemplateSpec {
  name: string;
  imageId: string;
  instanceType: string;
  securityGroupIds: string[];
  instanceProfile?: string;
  userDataBase64: string;
  tags: Record<string, string>;
}

export async function createLaunchTemplate(
  clients: Clients,
  spec: LaunchTemplateSpec,
  options: CallOptions = {},
): Promise<string> {
  const { CreateLaunchTemplateCommand } = await import("@aws-sdk/client-ec2");
  try {
    const out = await call(
      () =>
        clients.ec2.send(
          new CreateLaunchTemplateCommand({
            LaunchTemplateName: spec.name,
            LaunchTemplateData: {
              ImageId: spec.imageId,
              InstanceType: spec.instanceType as never,
              SecurityGroupIds: spec.securityGroupIds,
              UserData: spec.userDataBase64,
              ...(spec.instanceProfile
                ? { IamInstanceProfile: { Name: spec.instanceProfile } }
                : {}),
            },
            TagSpecifications: [
              {
                ResourceType: "launch-template",
                Tags: Object.entries(spec.tags).map(([Key, Value]) => ({ Key, Value })),
              },
            ],
          }),
        ),
      options,
    );
    return out.LaunchTemplate?.LaunchTemplateId ?? "";
  } catch (error) {
    if (errorName(error) === "InvalidLaunchTemplateName.AlreadyExistsException") {
      const id = await findLaunchTemplateId(clients, spec.name, options);
      if (id) return id;
    }
    throw error;
  }
}

export async function deleteLaunchTemplate(
  clients: Clients,
  id: string,
  options: CallOptions = {},
): Promise<void> {
  const { DeleteLaunchTemplateCommand } = await import("@aws-sdk/client-ec2");
  try {
    await call(
      () => clients.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: id })),
      options,
    );
  } catch (error) {
    const n = errorName(error) ?? "";
    if (!n.startsWith("InvalidLaunchTemplateId")) throw error;
  }
}

/**
 * Every launch template whose name matches `namePattern` (EC2's `*` and `?` wildcards, the
 * `launch-template-name` filter; all pages): its id, name and tags.
 */
export async function listLaunchTemplates(
  clients: Clients,
  namePattern: string,
  options: CallOptions = {},
): Promise<Array<{ id: string; name: string; tags: Record<string, string> }>> {
  const { EC2Client, paginateDescribeLaunchTemplates } = await import("@aws-sdk/client-ec2");
  const templates: Array<{ id: string; name: string; tags: Record<string, string> }> = [];
  const pages = paginateDescribeLaunchTemplates(
    // clients.ec2 is loaded lazily, so not an EC2Client: the paginator gets one whose send is it
    { client: throughCall(clients.ec2, options, EC2Client), pageSize: 200 },
    { Filters: [{ Name: "launch-template-name", Values: [namePattern] }] },
  );
  for await (const page of pages) {
    for (const t of page.LaunchTemplates ?? []) {
      if (!t.LaunchTemplateId || !t.LaunchTemplateName) continue;
      templates.push({
        id: t.LaunchTemplateId,
        name: t.LaunchTemplateName,
        tags: Object.fromEntries((t.Tags ?? []).map((x) => [x.Key ?? "", x.Value ?? ""])),
      });
    }
  }
  return templates;
}
