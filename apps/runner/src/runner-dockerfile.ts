/**
 * The Dockerfile of the runner image that `distill emit k8s` writes beside its manifests: Node 20 slim with
 * the runner built from a distilljs checkout (`pnpm deploy` copies it with its production dependencies),
 * `distill` on the PATH, and TensorFlow's GPU build when asked for with `--build-arg TFJS_NODE_GPU=1`.
 */
export const RUNNER_DOCKERFILE = `# The distill runner image: Node 20 slim with the built @distilljs/runner as \`distill\`.
# Build it from the root of a distilljs checkout:
#   docker build -f path/to/this/Dockerfile -t IMAGE .
# For NVIDIA GPUs add --build-arg TFJS_NODE_GPU=1 (installs @tensorflow/tfjs-node-gpu, which needs the
# CUDA 11.2 and cuDNN 8.1 libraries: set --build-arg BASE=<an image with them and Node 20>).
ARG BASE=node:20-slim
FROM node:20-slim AS build
ARG TFJS_NODE_GPU=0
WORKDIR /src
COPY . .
RUN npx -y pnpm@9.15.9 install --frozen-lockfile \\
 && if [ "$TFJS_NODE_GPU" = "1" ]; then npx -y pnpm@9.15.9 --filter @distilljs/runner add @tensorflow/tfjs-node-gpu@4.22.0; fi \\
 && npx -y pnpm@9.15.9 --filter "@distilljs/runner..." build \\
 && npx -y pnpm@9.15.9 --filter @distilljs/runner deploy --prod /opt/distill

FROM \${BASE}
COPY --from=build /opt/distill /opt/distill
RUN ln -s /opt/distill/dist/cli.js /usr/local/bin/distill && distill --version
WORKDIR /runs
CMD ["distill", "--help"]
`;

/** What the image's build leaves out of the checkout (BuildKit reads `<Dockerfile>.dockerignore`). */
export const RUNNER_DOCKERIGNORE = `**/node_modules
**/dist
**/.turbo
runs
.git
`;
