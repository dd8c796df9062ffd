from cchc_analysis.cli import main

raise SystemExit(main())
