from omnicli.main import main

raise SystemExit(main())
