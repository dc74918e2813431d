# The AWS side of one switchyard service (web/prod), as Terraform owns it:
#
# - an Application Load Balancer whose listener answers a fixed 503 until switchyard's first
#   deploy points it at a server group; Terraform then ignores the listener's default action,
#   because switchyard owns its weights from that moment on;
# - the security groups of the load balancer and of the instances;
# - the state bucket (swap records), versioned, with history expiring;
# - the releases bucket, and the instance role that may read it;
# - optionally the operator/CI policy printed by `switchyard iam-policy web/prod`.
#
# switchyard creates the Auto Scaling groups, target groups and launch templates itself; they are
# not in Terraform. After `terraform apply`, copy the outputs into switchyard.config.yaml.
# See docs/aws-setup.md.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "app" {
  type    = string
  default = "web"
}

variable "env" {
  type    = string
  default = "prod"
}

variable "vpc_id" {
  type = string
}

variable "public_subnet_ids" {
  description = "Subnets of the load balancer (two or more zones)."
  type        = list(string)
}

variable "instance_subnet_ids" {
  description = "Subnets the server groups launch into (switchyard's `subnets`)."
  type        = list(string)
}

variable "app_port" {
  description = "The port the release's web process listens on (switchyard's targetGroup.port)."
  type        = number
  default     = 8080
}

variable "state_bucket" {
  description = "Bucket of switchyard's swap records (state.bucket)."
  type        = string
}

variable "state_prefix" {
  description = "Key prefix of swap records (state.prefix)."
  type        = string
  default     = ".switchyard"
}

variable "releases_bucket" {
  description = "Bucket of release tarballs (the bucket of `releases`)."
  type        = string
}

variable "history_days" {
  description = "Days a finished swap's history object is kept."
  type        = number
  default     = 180
}

variable "operator_role_name" {
  description = "The role switchyard runs as (CI or operators); gets switchyard-policy.json attached when that file exists."
  type        = string
  default     = ""
}

locals {
  name        = "${var.app}-${var.env}"
  service     = "${var.app}/${var.env}"
  state_keys  = trimsuffix("${var.state_prefix}/${var.app}/${var.env}/", "/")
  release_dir = "${var.app}/${var.env}/"

  switchyard_policy_file = "${path.module}/switchyard-policy.json"
  has_switchyard_policy  = fileexists(local.switchyard_policy_file)
}

# ─── network ────────────────────────────────────────────────────────────────────────────────

resource "aws_security_group" "lb" {
  name        = "${local.name}-lb"
  description = "${local.service} load balancer"
  vpc_id      = var.vpc_id

  ingress {
    description = "HTTP from anywhere"
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    description = "to the instances"
    from_port   = var.app_port
    to_port     = var.app_port
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "instances" {
  name        = "${local.name}-instances"
  description = "${local.service} instances (switchyard's securityGroups)"
  vpc_id      = var.vpc_id

  ingress {
    description     = "traffic and health checks from the load balancer"
    from_port       = var.app_port
    to_port         = var.app_port
    protocol        = "tcp"
    security_groups = [aws_security_group.lb.id]
  }

  egress {
    description = "S3 (releases) and the instance metadata service"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_lb" "this" {
  name               = local.name
  load_balancer_type = "application"
  security_groups    = [aws_security_group.lb.id]
  subnets            = var.public_subnet_ids
}

# The listener switchyard takes over. Until the first deploy it answers 503; the first deploy
# replaces the default action with a weighted forward to the new server group, and every swap
# and rollback after that changes its weights. ignore_changes keeps `terraform apply` from
# putting the 503 back (which would take the service down) or from reporting drift forever.
resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      message_body = "no release deployed yet"
      status_code  = "503"
    }
  }

  lifecycle {
    ignore_changes = [default_action]
  }
}

# ─── state bucket: swap records ─────────────────────────────────────────────────────────────

resource "aws_s3_bucket" "state" {
  bucket = var.state_bucket
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# Versioning keeps every earlier state of a swap record, so a record overwritten or deleted by
# mistake (or by `unlock --force`) can be read back while investigating.
resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket     = aws_s3_bucket.state.id
  depends_on = [aws_s3_bucket_versioning.state]

  # A swap rewrites its record at every step and heartbeat: old versions pile up quickly.
  rule {
    id     = "expire-old-record-versions"
    status = "Enabled"
    filter {
      prefix = "${var.state_prefix}/"
    }
    noncurrent_version_expiration {
      noncurrent_days = 14
    }
    expiration {
      expired_object_delete_marker = true
    }
  }

  # Each finished swap leaves <prefix>/<app>/<env>/history/<started>-<swap>-<group>.json.
  # switchyard reads the history only to never reuse a sequence number, so keep it longer than
  # the oldest server group you might still have.
  rule {
    id     = "expire-history-${local.name}"
    status = "Enabled"
    filter {
      prefix = "${local.state_keys}/history/"
    }
    expiration {
      days = var.history_days
    }
  }
}

# ─── releases bucket and the instance role ──────────────────────────────────────────────────

resource "aws_s3_bucket" "releases" {
  bucket = var.releases_bucket
}

resource "aws_s3_bucket_public_access_block" "releases" {
  bucket                  = aws_s3_bucket.releases.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "releases" {
  bucket = aws_s3_bucket.releases.id
  rule {
    id     = "abort-incomplete-release-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
  }
}

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

# The role and profile have the same name: `switchyard iam-policy` derives the role it may pass
# (iam:PassRole) from the instanceProfile name.
resource "aws_iam_role" "instance" {
  name               = local.name
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

# What fetch-and-run needs: read this service's releases (aws s3 cp, s3api head-object).
resource "aws_iam_role_policy" "read_releases" {
  name = "read-releases"
  role = aws_iam_role.instance.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "ReadReleases"
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = "${aws_s3_bucket.releases.arn}/${local.release_dir}*"
    }]
  })
}

resource "aws_iam_instance_profile" "instance" {
  name = local.name
  role = aws_iam_role.instance.name
}

# ─── the operator / CI policy ───────────────────────────────────────────────────────────────

# Generate it once the config exists:  switchyard iam-policy web/prod > switchyard-policy.json
# Until that file exists the policy is left out (count = 0). `file()` is only called when it
# does: Terraform evaluates the arguments of a resource even when its count is 0.
resource "aws_iam_policy" "switchyard" {
  count       = local.has_switchyard_policy ? 1 : 0
  name        = "switchyard-${local.name}"
  description = "What switchyard needs to deploy, roll back and retire ${local.service}"
  policy      = local.has_switchyard_policy ? file(local.switchyard_policy_file) : "{}"
}

resource "aws_iam_role_policy_attachment" "switchyard" {
  count      = length(aws_iam_policy.switchyard) > 0 && var.operator_role_name != "" ? 1 : 0
  role       = var.operator_role_name
  policy_arn = aws_iam_policy.switchyard[0].arn
}

# ─── what switchyard.config.yaml needs ──────────────────────────────────────────────────────

output "switchyard_config" {
  description = "Paste into switchyard.config.yaml (then add image, instanceType and capacity)."
  value = {
    region = var.region
    state  = { bucket = aws_s3_bucket.state.id, prefix = var.state_prefix }
    services = {
      (local.service) = {
        listenerArn     = aws_lb_listener.http.arn
        vpcId           = var.vpc_id
        subnets         = var.instance_subnet_ids
        securityGroups  = [aws_security_group.instances.id]
        instanceProfile = aws_iam_instance_profile.instance.name
        targetGroup     = { port = var.app_port }
        releases        = "s3://${aws_s3_bucket.releases.id}/${local.release_dir}"
      }
    }
  }
}

output "url" {
  value = "http://${aws_lb.this.dns_name}/"
}
