# The Table 4 ensemble on test-dev2017: no ground truth, so the run writes the COCO server's
# results file work_dirs/<this config>/person_keypoints_test-dev2017_refine50ensemble_results.json
# (checked well-formed first). Zip it and upload it to the COCO keypoint challenge server.
_base_ = ['./td-hm_ensemble-3xrefine50_coco-384x288.py']

test_dataloader = dict(
    dataset=dict(
        data_root='data/coco/',
        ann_file='annotations/image_info_test-dev2017.json',
        bbox_file='data/coco/person_detection_results/'
        'COCO_test-dev2017_detections_AP_H_609_person.json',
        data_prefix=dict(img='test2017/'),
        filter_cfg=dict(bbox_score_thr=0.0)))
test_evaluator = dict(
    _delete_=True,
    type='CocoSubmissionMetric',
    ann_file='data/coco/annotations/image_info_test-dev2017.json',
    outfile_dir='work_dirs/td-hm_ensemble-3xrefine50_coco-test-dev-384x288',
    submission_name='refine50ensemble')
