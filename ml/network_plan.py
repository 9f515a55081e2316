"""Rewrites that make a one-row pass of the numpy network cheap and keep its outputs."""

from __future__ import annotations

import numpy as np

from ml.layers import PASS_THROUGH, Step

Plan = list[tuple[Step, list[str]]]


def plan_steps(steps: list[Step], input_name: str, output_name: str) -> tuple[Plan, str]:
    """The steps that compute, each with the steps it reads, and the step giving the output.

    A pass-through step (Dropout) is read as the step feeding it, which saves a call per layer on
    every request; then an ensemble's first layers are widened into one and its averaged logits
    computed as one layer.
    """
    alias = {input_name: input_name}
    plan = []
    for step in steps:
        inputs = [alias[name] for name in step.inputs]
        if step.kind in PASS_THROUGH:
            alias[step.name] = inputs[0]
        else:
            alias[step.name] = step.name
            plan.append((step, inputs))
    output = alias[output_name]
    return _average_in_one_layer(_widen_siblings(plan), output), output


def fold_rising_runs(
    plan: Plan, input_name: str, runs: list[slice]
) -> tuple[np.ndarray, np.ndarray] | None:
    """Network.fold_rising_runs on a plan: the input columns to difference and those following
    them, or None (nothing changed)."""
    readers = [step for step, inputs in plan if input_name in inputs]
    runs = [run for run in runs if run.stop - run.start >= 2]
    if not runs or not readers or any(step.kind != "Dense" for step in readers):
        return None
    for step in readers:
        kernel = step.params["kernel"]  # in place: the widened members' kernels are views
        for run in runs:
            kernel[run] = np.cumsum(kernel[run], axis=0, dtype=np.float64)
    differenced = np.concatenate([np.arange(r.start, r.stop - 1) for r in runs])
    return differenced, differenced + 1


def _widen_siblings(plan: Plan) -> Plan:
    """Dense layers reading the same step with the same elementwise activation (an ensemble's
    first layers) run as one layer as wide as all of them, each member a view of its columns.

    One gather and one product instead of one per member: the kernel rows a one-row pass reads
    are then contiguous across members. The members' kernels become views of the wide one, so
    the weights are held once.
    """
    groups: dict[tuple, list[Step]] = {}
    for step, inputs in plan:
        if step.kind == "Dense" and step.params["activation"] != "softmax":
            key = (inputs[0], step.params["activation"], step.params["bias"] is None)
            groups.setdefault(key, []).append(step)
    member_of: dict[str, tuple[Step, int, int]] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        kernel = np.hstack([m.params["kernel"] for m in members])
        bias = None
        if members[0].params["bias"] is not None:
            bias = np.concatenate([m.params["bias"] for m in members])
        wide = Step(
            "+".join(m.name for m in members),
            "Dense",
            members[0].inputs,
            kernel=kernel,
            bias=bias,
            activation=members[0].params["activation"],
        )
        start = 0
        for member in members:
            stop = start + member.params["kernel"].shape[1]
            member.params["kernel"] = kernel[:, start:stop]
            if bias is not None:
                member.params["bias"] = bias[start:stop]
            member_of[member.name] = (wide, start, stop)
            start = stop
    widened, placed = [], set()
    for step, inputs in plan:
        if step.name not in member_of:
            widened.append((step, inputs))
            continue
        wide, start, stop = member_of[step.name]
        if wide.name not in placed:  # where the first member was: its input is computed by then
            widened.append((wide, inputs))
            placed.add(wide.name)
        widened.append((Step(step.name, "Slice", [wide.name], start=start, stop=stop), [wide.name]))
    return widened


def _average_in_one_layer(plan: Plan, output: str) -> Plan:
    """An Average of linear Dense layers read by nothing else (an ensemble's logits) runs as
    one Dense layer over their inputs side by side, its kernel their kernels stacked.

    (Σ xᵢ Wᵢ + bᵢ) / n = ([x₁ … xₙ] [W₁; …; Wₙ] + Σ bᵢ) / n: one gather and one product instead
    of n, and no separate Average. The members' kernels become views of the stacked one.
    """
    readers: dict[str, int] = {output: 1}
    for _, inputs in plan:
        for name in inputs:
            readers[name] = readers.get(name, 0) + 1
    producing = {step.name: (step, inputs) for step, inputs in plan}
    merged: dict[str, tuple[Step, list[str]]] = {}
    for step, inputs in plan:
        members = [producing.get(name) for name in inputs]
        if (
            step.kind != "Average"
            or len(set(inputs)) != len(inputs)
            or any(
                m is None
                or m[0].kind != "Dense"
                or m[0].params["activation"] != "linear"
                or readers.get(m[0].name) != 1
                for m in members
            )
            or len({m[0].params["bias"] is None for m in members}) != 1
        ):
            continue
        kernel = np.vstack([m[0].params["kernel"] for m in members])
        start = 0
        for member, _ in members:
            stop = start + member.params["kernel"].shape[0]
            member.params["kernel"] = kernel[start:stop]
            start = stop
        biases = [m[0].params["bias"] for m in members]
        bias = None if biases[0] is None else np.sum(biases, axis=0, dtype=np.float32)
        fused = Step(step.name, "AveragedDense", [], kernel=kernel, bias=bias, members=len(members))
        merged[step.name] = (fused, [name for m in members for name in m[1]])
    if not merged:
        return plan
    dropped = {member for average in merged for member in producing[average][1]}
    return [
        merged.get(step.name, (step, inputs)) for step, inputs in plan if step.name not in dropped
    ]
