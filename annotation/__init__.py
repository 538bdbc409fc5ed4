"""Projects, rubrics, comparisons, assignment, judgments, import and the annotation API/UI."""
