# PoseFix's error model for SynthesizePoseErrors: for each case (a person alone or overlapped by
# another, with fewer than 10 labelled joints or not) and each joint group, the probabilities of
# jitter, inversion, swap and miss; `good` takes the rest. The shape of the table follows PoseFix
# (errors grow with crowding and with few labelled joints; limbs invert and swap more than the
# face); the values are this project's, set above typical estimator error rates so the refiner
# sees every kind of mistake often.
pose_error_probabilities = dict(
    alone=dict(
        face=dict(jitter=0.10, inversion=0.02, swap=0.0, miss=0.05),
        upper=dict(jitter=0.12, inversion=0.04, swap=0.0, miss=0.06),
        lower=dict(jitter=0.14, inversion=0.06, swap=0.0, miss=0.08)),
    alone_few_joints=dict(
        face=dict(jitter=0.15, inversion=0.03, swap=0.0, miss=0.10),
        upper=dict(jitter=0.18, inversion=0.05, swap=0.0, miss=0.12),
        lower=dict(jitter=0.20, inversion=0.07, swap=0.0, miss=0.15)),
    crowded=dict(
        face=dict(jitter=0.12, inversion=0.02, swap=0.03, miss=0.06),
        upper=dict(jitter=0.14, inversion=0.04, swap=0.05, miss=0.08),
        lower=dict(jitter=0.16, inversion=0.06, swap=0.06, miss=0.10)),
    crowded_few_joints=dict(
        face=dict(jitter=0.16, inversion=0.03, swap=0.06, miss=0.12),
        upper=dict(jitter=0.18, inversion=0.05, swap=0.08, miss=0.14),
        lower=dict(jitter=0.20, inversion=0.07, swap=0.10, miss=0.16)))
